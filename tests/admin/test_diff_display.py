"""The side-by-side layout: every line of both versions, in order, changes paired."""

from __future__ import annotations

import json
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.configs import make_bot_config, mutate
from config_versions.core.diff import diff_configs
from config_versions.diff_display import Fold, Row, json_lines, side_by_side


def pretty(value) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).split("\n")


def layout(old, new, **options):
    return side_by_side(old, new, diff_configs(old, new)["changes"], **options)


def check_faithful(old, new) -> list[Row]:
    """With nothing folded, the rows hold both pretty texts exactly, line for line."""
    display = layout(old, new, expand="all")
    rows = display.rows
    assert all(isinstance(row, Row) for row in rows)
    left = [row.left for row in rows if row.left]
    right = [row.right for row in rows if row.right]
    assert [c.before + c.changed + c.after for c in left] == pretty(old)
    assert [c.before + c.changed + c.after for c in right] == pretty(new)
    assert [c.number for c in left] == list(range(1, len(left) + 1))
    assert [c.number for c in right] == list(range(1, len(right) + 1))
    for row in rows:
        if not row.is_change:
            # Unchanged lines differ at most by the comma after them.
            assert row.left.before.rstrip(",") == row.right.before.rstrip(",")
    # Every change is anchored on a line that is marked as changed.
    changed_ids = {
        f"cv-{side}{cell.number}"
        for row in rows
        if row.is_change
        for side, cell in (("L", row.left), ("R", row.right))
        if cell is not None and cell.kind != "equal"
    }
    assert all(item.anchor in changed_ids for item in display.summary)
    return rows


def test_json_lines_matches_json_dumps():
    config = make_bot_config(20_000, seed=3)
    lines, spans = json_lines(config)
    assert lines == pretty(config)
    start, end = spans["/tools/0"]
    assert json.loads("\n".join(lines[start:end]).rstrip(",")) == config["tools"][0]
    assert spans[""] == (0, len(lines))


def test_json_lines_of_empty_and_odd_keys():
    config = {"": {}, "a/b": [], "~": [[]], "é": "\u2028"}
    lines, spans = json_lines(config)
    assert lines == pretty(config)
    assert set(spans) >= {"/", "/a~1b", "/~0", "/~0/0", "/é"}


def test_scalar_change_is_one_paired_row_with_the_difference_marked():
    rows = check_faithful({"model": "gpt-4", "n": 1}, {"model": "gpt-4o", "n": 1})
    (changed,) = [row for row in rows if row.is_change]
    assert (changed.left.before, changed.left.changed, changed.left.after) == (
        '  "model": "gpt-4',
        "",
        '",',
    )
    assert changed.right.changed == "o"


def test_lines_sharing_only_their_indent_are_not_marked():
    rows = check_faithful({"a": [1]}, {"a": [{"nested": True}]})
    changed = [r for r in rows if r.is_change]
    assert changed
    assert all(not (r.left and r.left.changed) for r in changed)
    assert all(not (r.right and r.right.changed) for r in changed)


def test_inserted_list_element_is_one_block_on_the_right():
    old = {"tools": [{"name": "a"}, {"name": "b"}]}
    new = {"tools": [{"name": "a"}, {"name": "x"}, {"name": "b"}]}
    rows = check_faithful(old, new)
    added = [row for row in rows if row.is_change]
    assert all(row.left is None for row in added)
    assert [row.right.before for row in added] == ["    {", '      "name": "x"', "    },"]


def test_removed_key_and_added_key_share_rows():
    rows = check_faithful({"a": 1, "b": 2, "z": 0}, {"a": 1, "c": 3, "z": 0})
    changed = [row for row in rows if row.is_change]
    assert [(r.left.before, r.right.before) for r in changed] == [('  "b": 2,', '  "c": 3,')]


def test_folding_keeps_context_around_changes():
    old = {f"k{n:03}": n for n in range(100)}
    new = dict(old, k050="x")
    rows = layout(old, new, context=2).rows
    kinds = ["fold" if isinstance(r, Fold) else ("change" if r.is_change else "eq") for r in rows]
    assert kinds == ["fold", "eq", "eq", "change", "eq", "eq", "fold"]
    # k050 is line 52 of 102.
    assert [r.count for r in rows if isinstance(r, Fold)] == [49, 48]
    unfolded = layout(old, new, context=2, expand={1}).rows
    assert [r.count for r in unfolded if isinstance(r, Fold)] == [48]


def test_a_single_hidden_line_is_shown_not_folded():
    old = {f"k{n}": n for n in range(8)}
    rows = layout(old, dict(old, k0="x", k7="y"), context=3).rows
    assert not [r for r in rows if isinstance(r, Fold)]


def test_identical_configs_fold_into_one_run():
    config = make_bot_config(5_000, seed=1)
    display = layout(config, config)
    assert display.identical
    (fold,) = display.rows
    assert isinstance(fold, Fold)
    assert fold.count == len(pretty(config))


def test_summary_is_limited_but_counts_everything():
    old = {f"k{n}": n for n in range(50)}
    new = {f"k{n}": n + 1 for n in range(50)}
    display = layout(old, new, summary_limit=10)
    assert display.change_count == 50
    assert len(display.summary) == 10
    assert display.summary[0].before == "0"
    assert display.summary[0].after == "1"


def test_long_values_are_previewed_short():
    display = layout({"p": "a"}, {"p": "b" * 500})
    assert len(display.summary[0].after) == 80
    assert display.summary[0].after.endswith("…")


@pytest.mark.parametrize("seed", range(6))
def test_realistic_edits(seed):
    old = make_bot_config(30_000, seed=seed)
    check_faithful(old, mutate(old, 0.05, seed=seed))


def test_lists_of_repeated_values():
    rng = random.Random(7)
    old = {"xs": [rng.randint(0, 3) for _ in range(300)]}
    new = {"xs": [rng.randint(0, 3) for _ in range(300)]}
    check_faithful(old, new)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["a", "b", "", "~/"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "a/b", "~"]), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), json_values, max_size=4),
    st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), json_values, max_size=4),
)
def test_any_two_configs(old, new):
    check_faithful(old, new)


def test_layout_time_grows_linearly_with_the_config():
    # The real budget (a whole page in under a second) is measured by
    # bench/admin_render_bench.py; this guards against a quadratic regression without a
    # wall-clock limit, which a busy machine (or coverage) would break: ten times the
    # config must cost far less than a hundred times the time.
    def best_time(size: int, seed: int) -> tuple[float, int]:
        old = make_bot_config(size, seed=seed)
        new = mutate(old, 0.01, seed=seed + 1)
        changes = diff_configs(old, new)["changes"]
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            display = side_by_side(old, new, changes)
            timings.append(time.perf_counter() - start)
        assert display.change_count == len(changes)
        return min(timings), len(changes)

    small, _ = best_time(100_000, seed=11)
    large, changes = best_time(1_000_000, seed=13)
    assert changes > 100
    assert large / small < 35


def test_runs_up_to_twice_the_context_are_not_folded():
    # {, k0..k4 unchanged (6 lines), then the change: 6 == 2 * 3, shown in full.
    old = {f"k{n}": n for n in range(6)}
    rows = layout(old, dict(old, k5="x"), context=3).rows
    assert not [r for r in rows if isinstance(r, Fold)]
    # One more line and the run folds, keeping the three lines next to the change.
    old = {f"k{n}": n for n in range(7)}
    rows = layout(old, dict(old, k6="x"), context=3).rows
    assert [(r.left_start, r.count) for r in rows if isinstance(r, Fold)] == [(1, 4)]
