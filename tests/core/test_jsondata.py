"""Canonical JSON helpers: the text depth check agrees with a walk over the data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config_versions.core.jsondata import json_depth, normalize_config, text_depth

# Strings full of the characters a text scan could mistake for structure.
tricky_text = st.text(alphabet='[]{}"\\,:ab\u00e9\n', max_size=8)
finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite
json_values = st.recursive(
    scalars | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(tricky_text, json_values, max_size=5))
def test_text_depth_matches_the_tree_walk(config: dict[str, Any]) -> None:
    _data, text = normalize_config(config)
    assert text_depth(text) == json_depth(config)


@pytest.mark.parametrize(
    ("config", "depth"),
    [
        ({}, 1),
        ({"a": []}, 2),
        ({"a": [{}]}, 3),
        ({"a": "[[[{{{"}, 1),
        ({"a": 'quote \\" [ inside', "b": [[1]]}, 3),
        ({"[": {"]": {"}": []}}}, 4),
    ],
)
def test_text_depth_examples(config: dict[str, Any], depth: int) -> None:
    assert text_depth(normalize_config(config)[1]) == depth


def test_text_depth_stops_past_the_limit() -> None:
    text = '{"x":' * 5000 + "{}" + "}" * 5000
    assert text_depth(text, limit=32) == 33
    assert text_depth(text) == 5001
