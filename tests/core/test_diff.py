"""The framework-free diff engine: seed shape, JSON Pointer paths, list alignment and
the promise that ``changes`` applied in order as a JSON patch rebuilds the new config."""

from __future__ import annotations

import copy
import json
import random
import time
from typing import Any

import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_versions.core import diff
from config_versions.core.diff import (
    diff_configs,
    escape_pointer_token,
    pointer,
    split_pointer,
    to_json_patch,
    unescape_pointer_token,
)


def canon(value: Any) -> str:
    # Strict JSON equality: Python's == would equate True, 1 and 1.0.
    return json.dumps(value, sort_keys=True)


def apply_checked(doc: Any, changes: list[dict[str, Any]]) -> Any:
    """Apply ``changes`` in order, asserting each ``from`` is what sits at its path then."""
    doc = copy.deepcopy(doc)
    for change in changes:
        *parents, last = split_pointer(change["path"])
        target = doc
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        key: Any = int(last) if isinstance(target, list) else last
        op = change["op"]
        if op == "add":
            assert change["from"] is None
            if isinstance(target, list):
                target.insert(key, change["to"])
            else:
                assert key not in target
                target[key] = change["to"]
        else:
            assert canon(target[key]) == canon(change["from"]), change
            if op == "remove":
                assert change["to"] is None
                del target[key]
            else:
                assert op == "replace"
                target[key] = change["to"]
    return doc


def assert_round_trip(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    result = diff_configs(old, new)
    patched = jsonpatch.apply_patch(copy.deepcopy(old), to_json_patch(result))
    assert canon(patched) == canon(new)
    assert canon(apply_checked(old, result["changes"])) == canon(new)
    for change in result["changes"]:
        assert set(change) == {"op", "path", "from", "to"}
    return result


# Examples ------------------------------------------------------------------------------


def test_seed_shape_for_a_nested_change():
    old = {"name": "SupportBot", "llm": {"provider": "openai", "model": "gpt-4"}}
    new = {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "claude-3-sonnet"}}
    result = assert_round_trip(old, new)
    assert result["added"] == {}
    assert result["removed"] == {}
    assert result["changed"] == {"llm": {"from": old["llm"], "to": new["llm"]}}
    assert result["changes"] == [
        {"op": "replace", "path": "/llm/model", "from": "gpt-4", "to": "claude-3-sonnet"},
        {"op": "replace", "path": "/llm/provider", "from": "openai", "to": "anthropic"},
    ]


def test_top_level_keys_added_and_removed():
    result = assert_round_trip({"a": 1, "b": {"x": [1]}}, {"a": 1, "c": None})
    assert result["added"] == {"c": None}
    assert result["removed"] == {"b": {"x": [1]}}
    assert result["changed"] == {}
    assert result["changes"] == [
        {"op": "remove", "path": "/b", "from": {"x": [1]}, "to": None},
        {"op": "add", "path": "/c", "from": None, "to": None},
    ]


def test_identical_configs_have_no_differences():
    config = {"a": [1, {"b": None}], "c": {}, "d": [], "e": "é"}
    empty: dict[str, Any] = {"added": {}, "removed": {}, "changed": {}, "changes": []}
    assert diff_configs(config, copy.deepcopy(config)) == empty
    assert diff_configs({}, {}) == empty
    assert diff_configs({"b": 1, "a": 2}, {"a": 2, "b": 1}) == empty


def test_keys_are_escaped_in_paths():
    result = assert_round_trip(
        {"a/b": 1, "m~n": {"x/~y": 1}}, {"a/b": 2, "m~n": {"x/~y": 2}, "~1": True}
    )
    assert [change["path"] for change in result["changes"]] == ["/a~1b", "/m~0n/x~1~0y", "/~01"]
    assert set(result["changed"]) == {"a/b", "m~n"}
    assert result["added"] == {"~1": True}


def test_insert_at_front_of_long_list_is_one_add():
    items = [{"id": i, "name": f"tool-{i}"} for i in range(1000)]
    new_item = {"id": -1, "name": "new"}
    result = assert_round_trip({"tools": items}, {"tools": [new_item, *items]})
    assert result["changes"] == [{"op": "add", "path": "/tools/0", "from": None, "to": new_item}]


def test_removal_in_the_middle_is_one_remove():
    items = list(range(1000))
    result = assert_round_trip({"xs": items}, {"xs": items[:400] + items[401:]})
    assert result["changes"] == [{"op": "remove", "path": "/xs/400", "from": 400, "to": None}]


def test_nested_change_inside_a_list_element_uses_the_nested_path():
    tools = [{"name": f"t{i}", "timeout": 10} for i in range(6)]
    changed = copy.deepcopy(tools)
    changed[3]["timeout"] = 30
    result = assert_round_trip({"tools": tools}, {"tools": changed})
    assert result["changes"] == [
        {"op": "replace", "path": "/tools/3/timeout", "from": 10, "to": 30}
    ]


def test_list_paths_use_the_working_index():
    # Removing two elements before a changed one shifts its index to the new position.
    old = {"xs": ["a", "b", "c", {"k": 1}, "d"]}
    new = {"xs": ["c", {"k": 2}, "d", "e"]}
    result = assert_round_trip(old, new)
    assert result["changes"] == [
        {"op": "remove", "path": "/xs/1", "from": "b", "to": None},
        {"op": "remove", "path": "/xs/0", "from": "a", "to": None},
        {"op": "replace", "path": "/xs/1/k", "from": 1, "to": 2},
        {"op": "add", "path": "/xs/3", "from": None, "to": "e"},
    ]


def test_deep_nesting_does_not_hit_the_recursion_limit():
    # 600 levels: storable (the JSON encoder accepts it) but too deep for a recursive diff.
    old: Any = 1
    new: Any = 2
    for _ in range(300):
        old, new = {"a": [old]}, {"a": [new]}
    result = diff_configs({"x": old}, {"x": new})
    assert result["changes"] == [{"op": "replace", "path": "/x" + "/a/0" * 300, "from": 1, "to": 2}]


def test_long_lists_of_repeated_values_stay_fast_and_correct():
    # The aligner is quadratic on such lists; past the budget they are paired
    # positionally, which is still a correct patch.
    rng = random.Random(0)
    old = [rng.randint(0, 3) for _ in range(5000)]
    new = [rng.randint(0, 3) for _ in range(5000)]
    started = time.perf_counter()
    assert_round_trip({"xs": old}, {"xs": new})
    assert time.perf_counter() - started < 5


def test_without_alignment_budget_lists_are_paired_positionally(monkeypatch):
    monkeypatch.setattr(diff, "ALIGNMENT_BUDGET", 0)
    result = assert_round_trip({"xs": ["a", "b", "c"]}, {"xs": ["z", "a", "b", "c", "d"]})
    assert [c["op"] for c in result["changes"]] == ["replace"] * 3 + ["add"] * 2
    # Pure insertions and removals need no alignment, so they stay single operations.
    result = assert_round_trip({"xs": ["a", "b", "c"]}, {"xs": ["a", "c"]})
    assert result["changes"] == [{"op": "remove", "path": "/xs/1", "from": "b", "to": None}]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (1, True),
        (0, False),
        (1, 1.0),
        (0.0, -0.0),
        ([1], [True]),
        ({"a": [1]}, {"a": [True]}),
        ({"a": 0}, {"a": 0.0}),
    ],
)
def test_equality_is_json_strict(before, after):
    assert before == after  # Python says equal; JSON does not.
    result = assert_round_trip({"v": before}, {"v": after})
    assert result["changed"] == {"v": {"from": before, "to": after}}
    assert len(result["changes"]) == 1
    assert result["changes"][0]["op"] == "replace"


@pytest.mark.parametrize(
    ("before", "after"),
    [({"a": 1}, [1]), ([], {}), ("1", 1), (None, 0), (None, {}), ("x", ["x"])],
)
def test_type_change_is_a_single_replace(before, after):
    result = assert_round_trip({"v": before}, {"v": after})
    assert result["changes"] == [{"op": "replace", "path": "/v", "from": before, "to": after}]


def test_empty_containers():
    result = assert_round_trip({"d": {}, "l": []}, {"d": {"k": []}, "l": [{}]})
    assert result["changes"] == [
        {"op": "add", "path": "/d/k", "from": None, "to": []},
        {"op": "add", "path": "/l/0", "from": None, "to": {}},
    ]
    result = assert_round_trip({"d": {"k": []}, "l": [{}]}, {"d": {}, "l": []})
    assert [change["op"] for change in result["changes"]] == ["remove", "remove"]


def test_unicode_keys_and_none_values():
    result = assert_round_trip(
        {"模型": {"név": None}, "emoji🤖": "a"}, {"模型": {"név": "x"}, "emoji🤖": None}
    )
    assert result["changes"] == [
        {"op": "replace", "path": "/emoji🤖", "from": "a", "to": None},
        {"op": "replace", "path": "/模型/név", "from": None, "to": "x"},
    ]


def test_to_json_patch_accepts_a_changes_list_or_a_diff():
    result = diff_configs({"a": 1, "b": 2}, {"b": 3, "c": 4})
    expected = [
        {"op": "remove", "path": "/a"},
        {"op": "replace", "path": "/b", "value": 3},
        {"op": "add", "path": "/c", "value": 4},
    ]
    assert to_json_patch(result) == expected
    assert to_json_patch(result["changes"]) == expected
    with pytest.raises(ValueError, match="Unknown change op"):
        to_json_patch([{"op": "move", "path": "/a", "from": None, "to": None}])


# JSON Pointer helpers ---------------------------------------------------------------


def test_pointer_helpers():
    assert pointer() == ""
    assert pointer("a", "b/c") == "/a/b~1c"
    assert pointer("tools", 3, "m~n") == "/tools/3/m~0n"
    assert pointer("") == "/"
    assert escape_pointer_token("~/") == "~0~1"
    assert unescape_pointer_token("~01") == "~1"
    assert split_pointer("") == []
    assert split_pointer("/") == [""]
    assert split_pointer("/a~1b/0/m~0n") == ["a/b", "0", "m~n"]


@pytest.mark.parametrize("bad", ["a", "a/b", "/~2", "/a~", "/~a"])
def test_split_pointer_rejects_bad_pointers(bad):
    with pytest.raises(ValueError, match="Invalid JSON Pointer"):
        split_pointer(bad)


@given(st.lists(st.text(alphabet=st.sampled_from("a~/01é "), max_size=6), max_size=5))
def test_pointer_round_trip(tokens):
    assert split_pointer(pointer(*tokens)) == tokens
    for token in tokens:
        assert unescape_pointer_token(escape_pointer_token(token)) == token


# Properties ------------------------------------------------------------------------------

# A small alphabet makes equal keys and equal values (hence list alignment) common.
keys = st.text(alphabet=st.sampled_from("ab/~0é"), max_size=3) | st.text(max_size=4)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, -0.0, 1.0, 2.5])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from("xy/~"), max_size=2)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)
configs = st.dictionaries(keys, json_values, max_size=6)


def examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@examples(150)
@given(configs, configs)
def test_patch_of_unrelated_configs_rebuilds_the_new_one(old, new):
    assert_round_trip(old, new)


@examples(100)
@given(configs)
def test_diff_with_itself_is_empty(config):
    result = diff_configs(config, copy.deepcopy(config))
    assert result == {"added": {}, "removed": {}, "changed": {}, "changes": []}


def containers(value: Any) -> list[Any]:
    found = []
    if isinstance(value, dict | list):
        found.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            found.extend(containers(child))
    return found


@st.composite
def mutated_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A config and a copy changed by a few edits: list inserts and deletes, key
    additions and deletions, leaf changes, which random pairs rarely produce."""
    old = draw(configs)
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(1, 6))):
        target = draw(st.sampled_from(containers(new)))
        edit = draw(st.sampled_from(["insert", "delete", "change"]))
        if isinstance(target, list):
            if edit == "insert" or not target:
                target.insert(draw(st.integers(0, len(target))), draw(json_values))
            elif edit == "delete":
                del target[draw(st.integers(0, len(target) - 1))]
            else:
                target[draw(st.integers(0, len(target) - 1))] = draw(scalars)
        elif edit == "insert" or not target:
            target[draw(keys)] = draw(json_values)
        elif edit == "delete":
            del target[draw(st.sampled_from(sorted(target)))]
        else:
            target[draw(st.sampled_from(sorted(target)))] = draw(scalars)
    return old, new


@examples(300)
@given(mutated_pairs())
def test_patch_of_mutated_config_rebuilds_the_new_one(pair):
    old, new = pair
    result = assert_round_trip(old, new)
    assert result["added"] == {k: v for k, v in new.items() if k not in old}
    assert result["removed"] == {k: v for k, v in old.items() if k not in new}
    assert set(result["changed"]) == {
        k for k in old.keys() & new.keys() if canon(old[k]) != canon(new[k])
    }
    assert {path.split("/")[1] for path in (c["path"] for c in result["changes"])} == {
        escape_pointer_token(k) for k in (*result["added"], *result["removed"], *result["changed"])
    }


@examples(300)
@given(
    st.lists(st.integers(0, 3), max_size=30),
    st.lists(st.integers(0, 3), max_size=30),
)
def test_lists_with_many_duplicates(old, new):
    assert_round_trip({"xs": old}, {"xs": new})
