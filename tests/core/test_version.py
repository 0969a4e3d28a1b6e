"""ConfigVersion values, including the lazily read copy a rollback returns."""

from __future__ import annotations

import dataclasses

import pytest

from config_versions.core.version import (
    VERSION_FIELDS,
    ConfigVersion,
    CopiedConfigVersion,
    UnchangedVersion,
)


def _copied(loads: list[int]) -> CopiedConfigVersion:
    def load() -> dict[str, object]:
        loads.append(1)
        return {"a": 1}

    return CopiedConfigVersion(load, version=3, timestamp=1.5, reason="r", metadata={"m": 1})


def test_repr_does_no_io():
    loads: list[int] = []
    copied = _copied(loads)
    text = repr(copied)
    assert loads == []
    assert "config=<not loaded>" in text
    assert "version=3" in text
    assert copied.config == {"a": 1}
    assert "{'a': 1}" in repr(copied)
    assert loads == [1]


def test_survives_dataclasses_replace():
    loads: list[int] = []
    copied = _copied(loads)
    changed = dataclasses.replace(copied, reason="other")
    assert (changed.version, changed.reason, changed.config) == (3, "other", {"a": 1})
    assert changed.metadata == {"m": 1}
    assert loads == [1]  # replace passed the config on: read once, not again
    assert changed.config == {"a": 1}
    assert loads == [1]


def test_needs_a_loader_or_a_config():
    with pytest.raises(TypeError):
        CopiedConfigVersion(version=1)


def test_unchanged_flag():
    plain = ConfigVersion(version=2, config={})
    same = UnchangedVersion(version=2, config={})
    assert not plain.unchanged
    assert same.unchanged
    assert same == plain  # equality goes by number, as in the seed
    assert "unchanged" not in same.to_dict()


def test_version_fields_are_the_dataclass_fields():
    assert tuple(f.name for f in dataclasses.fields(ConfigVersion)) == VERSION_FIELDS
