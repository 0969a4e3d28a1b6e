from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config_versions import ConfigVersionManager, MergeConflictError, VersionConflictError
from config_versions.core.diff import diff_configs
from config_versions.core.jsondata import canonical_json
from config_versions.core.merge import (
    apply_changes,
    merge_preferring_ours,
    three_way_merge,
    value_at,
)

BASE = {
    "llm": {"provider": "openai", "model": "gpt-4", "temperature": 0.2},
    "tools": [{"name": "search"}, {"name": "calculator"}],
    "memory": {"type": "buffer", "max_messages": 10},
}


def _edit(**changes):
    config = json.loads(json.dumps(BASE))
    for path, value in changes.items():
        section, key = path.split("__")
        config[section][key] = value
    return config


def test_disjoint_edits_merge():
    ours = _edit(llm__temperature=0.7)
    theirs = _edit(memory__max_messages=20)
    merged, conflicts = three_way_merge(BASE, ours, theirs)
    assert conflicts == []
    assert merged["llm"]["temperature"] == 0.7
    assert merged["memory"]["max_messages"] == 20


def test_same_leaf_changed_differently_conflicts():
    merged, conflicts = three_way_merge(
        BASE, _edit(llm__model="gpt-4o"), _edit(llm__model="claude-3-sonnet")
    )
    assert conflicts == ["/llm/model"]
    assert merged["llm"]["model"] == "claude-3-sonnet"


def test_identical_edits_are_not_a_conflict():
    same = _edit(llm__model="gpt-4o")
    merged, conflicts = three_way_merge(BASE, same, same)
    assert (merged, conflicts) == (same, [])


def test_edits_inside_the_same_list_conflict_conservatively():
    ours = json.loads(json.dumps(BASE))
    ours["tools"].insert(0, {"name": "browser"})
    theirs = json.loads(json.dumps(BASE))
    theirs["tools"][1]["name"] = "calc"
    assert three_way_merge(BASE, ours, theirs)[1] == ["/tools"]


def test_list_edit_merges_with_an_edit_elsewhere():
    ours = json.loads(json.dumps(BASE))
    ours["tools"].insert(0, {"name": "browser"})
    merged, conflicts = three_way_merge(BASE, ours, _edit(llm__temperature=0.9))
    assert conflicts == []
    assert [t["name"] for t in merged["tools"]] == ["browser", "search", "calculator"]
    assert merged["llm"]["temperature"] == 0.9


def test_removed_parent_conflicts_with_nested_edit():
    theirs = json.loads(json.dumps(BASE))
    del theirs["memory"]
    assert three_way_merge(BASE, _edit(memory__type="summary"), theirs)[1] == ["/memory/type"]


def test_apply_changes_refuses_whole_document_paths():
    with pytest.raises(ValueError, match="whole document"):
        apply_changes({}, [{"op": "replace", "path": "", "from": {}, "to": {}}])


json_leaf = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)
sections = st.dictionaries(st.sampled_from("abcdef"), json_value, min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(base=sections, ours_new=sections, theirs_new=sections)
def test_edits_to_different_top_level_keys_always_merge(base, ours_new, theirs_new):
    ours_keys = {k for k in ours_new if k in "abc"}
    theirs_keys = {k for k in theirs_new if k in "def"}
    ours = {**base, **{k: ours_new[k] for k in ours_keys}}
    theirs = {**base, **{k: theirs_new[k] for k in theirs_keys}}
    merged, conflicts = three_way_merge(base, ours, theirs)
    assert conflicts == []
    assert json.dumps(merged, sort_keys=True) == json.dumps(
        {**base, **{k: ours[k] for k in ours_keys}, **{k: theirs[k] for k in theirs_keys}},
        sort_keys=True,
    )


@settings(max_examples=150, deadline=None)
@given(base=sections, ours=sections)
def test_merging_onto_an_unchanged_base_gives_ours(base, ours):
    merged, conflicts = three_way_merge(base, ours, base)
    assert conflicts == []
    assert json.dumps(merged, sort_keys=True) == json.dumps(ours, sort_keys=True)


def test_manager_merge():
    m = ConfigVersionManager()
    m.create(BASE)
    m.update(_edit(memory__max_messages=20), created_by="bo")
    v3 = m.merge(_edit(llm__temperature=0.7), base_version=1, reason="warmer", created_by="ana")
    assert v3.config["memory"]["max_messages"] == 20
    assert v3.config["llm"]["temperature"] == 0.7
    assert v3.metadata == {"merged_from": 1, "merged_onto": 2}
    assert v3.reason == "warmer"
    # From the current version a merge is a plain update.
    assert m.merge(_edit(llm__model="x"), base_version=3).metadata == {}


def test_manager_merge_conflict_writes_nothing():
    m = ConfigVersionManager()
    m.create(BASE)
    m.update(_edit(llm__model="claude"))
    with pytest.raises(MergeConflictError) as info:
        m.merge(_edit(llm__model="gpt-4o"), base_version=1)
    assert isinstance(info.value, VersionConflictError)
    assert (info.value.expected_version, info.value.actual_version) == (1, 2)
    assert info.value.conflicts == ["/llm/model"]
    assert "both changed /llm/model" in str(info.value)
    assert m.current_version == 2


def test_manager_merge_errors():
    m = ConfigVersionManager()
    with pytest.raises(ValueError, match="Version 1 not found"):
        m.merge({"a": 1}, base_version=1)


# Resolving a conflict: the newest config with the editor's values winning ---------------


def test_preferring_ours_takes_our_value_where_both_changed():
    ours = _edit(llm__model="gpt-4o", llm__temperature=0.9)
    theirs = _edit(llm__model="claude-3-sonnet", memory__max_messages=20)
    resolved = merge_preferring_ours(BASE, ours, theirs)
    assert resolved["llm"] == {"provider": "openai", "model": "gpt-4o", "temperature": 0.9}
    # Their edit elsewhere stays.
    assert resolved["memory"]["max_messages"] == 20
    # Saved from their version, the resolution conflicts with nothing.
    assert three_way_merge(theirs, resolved, theirs) == (resolved, [])


def test_preferring_ours_is_the_plain_merge_without_conflicts():
    ours, theirs = _edit(llm__temperature=0.7), _edit(memory__max_messages=20)
    assert merge_preferring_ours(BASE, ours, theirs) == three_way_merge(BASE, ours, theirs)[0]


def test_preferring_ours_takes_a_list_whole():
    ours = json.loads(json.dumps(BASE))
    ours["tools"].insert(0, {"name": "browser"})
    theirs = json.loads(json.dumps(BASE))
    theirs["tools"][1]["name"] = "calc"
    assert merge_preferring_ours(BASE, ours, theirs)["tools"] == ours["tools"]


def test_preferring_ours_keeps_our_removal_and_restores_what_they_removed_under_our_edit():
    ours = json.loads(json.dumps(BASE))
    del ours["llm"]["model"]
    theirs = _edit(llm__model="claude")
    assert "model" not in merge_preferring_ours(BASE, ours, theirs)["llm"]
    # They removed /memory, we edited /memory/type: ours wins, /memory is back as ours.
    theirs = json.loads(json.dumps(BASE))
    del theirs["memory"]
    ours = _edit(memory__type="summary")
    assert merge_preferring_ours(BASE, ours, theirs)["memory"] == ours["memory"]


def test_preferring_ours_does_not_change_its_inputs():
    ours, theirs = _edit(llm__model="a"), _edit(llm__model="b")
    copies = json.dumps([BASE, ours, theirs])
    resolved = merge_preferring_ours(BASE, ours, theirs)
    resolved["llm"]["model"] = "changed"
    assert json.dumps([BASE, ours, theirs]) == copies


def test_value_at():
    assert value_at(BASE, "/llm/model") == (True, "gpt-4")
    assert value_at(BASE, "/tools/1/name") == (True, "calculator")
    assert value_at(BASE, "/tools/7") == (False, None)
    assert value_at(BASE, "/llm/model/x") == (False, None)
    assert value_at(BASE, "") == (True, BASE)


@settings(max_examples=300, deadline=None)
@given(base=sections, ours=sections, theirs=sections)
def test_preferring_ours_keeps_every_edit_of_ours_and_theirs_elsewhere(base, ours, theirs):
    resolved = merge_preferring_ours(base, ours, theirs)
    merged, conflicts = three_way_merge(base, ours, theirs)
    if not conflicts:
        assert canonical_json(resolved) == canonical_json(merged)
    # Every place ours changed holds our value.
    for change in diff_configs(base, ours)["changes"]:
        assert value_at(resolved, change["path"]) == value_at(ours, change["path"])
    # Their changes to places ours left alone (outside any list ours touched) are kept.
    ours_paths = [c["path"] for c in diff_configs(base, ours)["changes"]]
    for change in diff_configs(base, theirs)["changes"]:
        top = "/" + change["path"].split("/")[1]
        if not any(p == top or p.startswith(top + "/") for p in ours_paths):
            assert value_at(resolved, change["path"]) == value_at(theirs, change["path"])


def test_three_way_merge_tells_false_from_zero():
    # Python's == calls False and 0 (or 1 and 1.0) the same edit; JSON does not.
    assert three_way_merge({"a": 1}, {"a": False}, {"a": 0})[1] == ["/a"]
    assert three_way_merge({"a": 2}, {"a": 1}, {"a": 1.0})[1] == ["/a"]
    assert three_way_merge({"a": 2}, {"a": 1}, {"a": 1}) == ({"a": 1}, [])


def test_preferring_ours_tells_false_from_zero():
    resolved = merge_preferring_ours({"a": 1}, {"a": False}, {"a": 0})
    assert resolved["a"] is False
