from __future__ import annotations

import asyncio
import json
import math

import pytest

from config_versions import (
    ConfigVersion,
    ConfigVersionManager,
    InMemoryStore,
    InvalidConfigError,
    VersionConflictError,
    VersionStore,
)


@pytest.fixture
def manager() -> ConfigVersionManager:
    m = ConfigVersionManager()
    m.create({"name": "Bot", "llm": {"model": "gpt-4"}}, created_by="ana")
    return m


def test_empty_manager():
    m = ConfigVersionManager()
    assert m.current_version == 0
    assert m.current_config is None
    assert len(m) == 0
    assert m.get_history() == []
    assert m.get_version(1) is None
    assert m.to_dict() == {"current_version": 0, "versions": []}


def test_default_reasons(manager):
    assert manager.get_version(1).reason == "Initial configuration"
    assert manager.update({"a": 1}).reason == "Configuration update"
    assert manager.rollback(1).reason == "Rollback to version 1"


def test_update_before_create_raises():
    with pytest.raises(ValueError, match="No configuration exists"):
        ConfigVersionManager().update({"a": 1})
    with pytest.raises(ValueError, match="No configuration exists"):
        ConfigVersionManager().update({"a": 1}, expected_version=0)


def test_expected_version_conflict_carries_both_numbers(manager):
    manager.update({"a": 1})
    with pytest.raises(VersionConflictError) as info:
        manager.update({"a": 2}, expected_version=1)
    assert (info.value.expected_version, info.value.actual_version) == (1, 2)
    assert "expected 1, but current is 2" in str(info.value)
    assert manager.current_version == 2
    assert manager.update({"a": 2}, expected_version=2).version == 3


def test_rollback_conflict_with_expected_version(manager):
    manager.update({"a": 1})
    with pytest.raises(VersionConflictError):
        manager.rollback(1, expected_version=1)
    assert manager.current_version == 2


def test_rollback_metadata_and_previous_version(manager):
    manager.update({"a": 1}, created_by="bo")
    v3 = manager.rollback(1, created_by="cy")
    assert v3.previous_version == 2
    assert v3.metadata == {"rollback_from": 2, "rollback_to": 1}
    assert v3.created_by == "cy"
    assert v3.config == {"name": "Bot", "llm": {"model": "gpt-4"}}


@pytest.mark.parametrize("missing", [0, -1, 99])
def test_rollback_to_missing_version(manager, missing):
    with pytest.raises(ValueError, match=f"Version {missing} not found"):
        manager.rollback(missing)
    assert manager.current_version == 1


def test_stored_configs_are_isolated_from_callers(manager):
    config = {"nested": {"list": [1, 2]}}
    v2 = manager.update(config)
    config["nested"]["list"].append(3)
    v2.config["nested"]["list"].append(4)
    manager.get_version(2).config["nested"]["list"].append(5)
    manager.current_config["nested"]["list"].append(6)
    manager.get_history()[0].config["nested"]["list"].append(7)
    assert manager.current_config == {"nested": {"list": [1, 2]}}


def test_metadata_is_isolated(manager):
    meta = {"tags": ["a"]}
    manager.update({"a": 1}, metadata=meta)
    meta["tags"].append("b")
    assert manager.get_version(2).metadata == {"tags": ["a"]}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (["not", "a", "dict"], "must be a JSON object"),
        ("text", "must be a JSON object"),
        (None, "must be a JSON object"),
        ({"x": math.nan}, "not valid JSON data"),
        ({"x": math.inf}, "not valid JSON data"),
        ({"x": {1, 2}}, "not valid JSON data"),
        ({"x": object()}, "not valid JSON data"),
        ({"x": "nul\x00byte"}, "NUL character"),
    ],
)
def test_invalid_configs_are_refused_and_nothing_is_written(manager, config, message):
    with pytest.raises(InvalidConfigError, match=message):
        manager.update(config)
    assert manager.current_version == 1


def test_nul_error_names_its_path(manager):
    with pytest.raises(InvalidConfigError) as info:
        manager.update({"a": {"b/c": ["ok", "bad\x00"]}})
    assert info.value.errors == [("/a/b~1c/1", "contains a NUL character (\\u0000)")]


@pytest.mark.parametrize("limit", [None, 100])
def test_lone_surrogates_are_refused_with_their_path(limit):
    manager = ConfigVersionManager(max_config_bytes=limit)
    with pytest.raises(InvalidConfigError, match="lone surrogate") as info:
        manager.create({"a": ["ok", {"b": "\ud800"}]})
    assert info.value.errors == [("/a/1/b", "contains a lone surrogate character")]
    assert manager.current_version == 0


def test_literal_backslash_u0000_text_is_fine(manager):
    assert manager.update({"a": "\\u0000"}).config == {"a": "\\u0000"}


def test_size_and_depth_limits():
    m = ConfigVersionManager(max_config_bytes=100, max_depth=3)
    with pytest.raises(InvalidConfigError, match="larger than the limit of 100 bytes"):
        m.create({"x": "y" * 200})
    with pytest.raises(InvalidConfigError, match="deeper than the limit of 3"):
        m.create({"a": {"b": {"c": {}}}})
    assert m.create({"a": {"b": {"c": 1}}}).version == 1


def test_too_deep_to_encode_is_a_clear_error():
    deep: dict = {}
    node = deep
    for _ in range(100_000):  # past every Python's C recursion limit (3.13 takes 5,000)
        node["a"] = {}
        node = node["a"]
    with pytest.raises(InvalidConfigError, match="nested too deeply"):
        ConfigVersionManager().create(deep)


def test_validators_run_on_create_update_and_rollback():
    seen: list[dict] = []

    def no_secrets(config):
        seen.append(config)
        if "secret" in config:
            raise ValueError("no secrets")

    m = ConfigVersionManager(validators=[no_secrets])
    m.create({"a": 1})
    with pytest.raises(ValueError, match="no secrets"):
        m.update({"secret": 1})
    m.update({"b": 1})
    m.rollback(1)
    assert len(seen) == 4
    assert m.current_version == 3


def test_negative_limit_is_refused(manager):
    with pytest.raises(ValueError, match="limit"):
        manager.get_history(limit=-1)


def test_history_filters(manager):
    for n in range(2, 11):
        manager.update({"n": n})
    assert [v.version for v in manager.get_history(limit=3, since_version=8)] == [10, 9]
    assert manager.get_history(limit=0) == []
    assert manager.get_history(since_version=10) == []
    assert len(manager.get_history(since_version=0)) == 10


def test_version_value_object():
    a = ConfigVersion(version=1, config={"a": 1})
    b = ConfigVersion(version=1, config={"b": 2})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != ConfigVersion(version=2, config={"a": 1})
    assert a.__eq__("v1") is NotImplemented
    with pytest.raises(AttributeError):
        a.version = 2  # type: ignore[misc]
    assert a.reason == ""
    assert a.previous_version is None
    assert a.created_by is None
    assert a.metadata == {}
    assert ConfigVersion.from_dict(a.to_dict()).to_dict() == a.to_dict()


def test_round_trip_keeps_every_field(manager):
    manager.update({"b": [1, {"c": None}]}, reason="why", created_by="bo", metadata={"k": "v"})
    manager.rollback(1)
    state = manager.to_dict()
    restored = ConfigVersionManager.from_dict(state)
    assert restored.to_dict() == state
    restored.update({"more": True})
    assert restored.current_version == 4


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"versions": "nope"}, "must be a list"),
        ({"versions": [{"version": 2, "config": {}}]}, "without gaps"),
        ({"versions": [{"config": {}}]}, "has no 'version' field"),
        ({"versions": [42]}, "is not an object"),
        ({"versions": [{"version": 1, "config": []}]}, "must be a JSON object"),
    ],
)
def test_from_dict_rejects_malformed_state(state, message):
    with pytest.raises(ValueError, match=message):
        ConfigVersionManager.from_dict(state)


def test_in_memory_store_satisfies_the_protocol():
    assert isinstance(InMemoryStore(), VersionStore)


def test_async_twins(manager):
    async def scenario():
        v2 = await manager.aupdate({"a": 1}, reason="async")
        v3 = await manager.arollback(1)
        history = await manager.aget_history(limit=2)
        return v2, v3, history, await manager.acurrent_version(), await manager.acurrent_config()

    v2, v3, history, current, config = asyncio.run(scenario())
    assert (v2.version, v3.version, current) == (2, 3, 3)
    assert [v.version for v in history] == [3, 2]
    assert config == manager.get_version(1).config

    fresh = ConfigVersionManager()
    assert asyncio.run(fresh.acreate({"x": 1})).version == 1
    assert asyncio.run(fresh.aget_version(1)).config == {"x": 1}
    assert asyncio.run(fresh.alen()) == 1
    assert asyncio.run(fresh.adiff(1, 1))["changes"] == []


def test_validate_checks_every_rule_and_writes_nothing():
    def no_secrets(config):
        if "secret" in config:
            raise ValueError("no secrets")

    m = ConfigVersionManager(validators=[no_secrets], max_depth=2)
    assert m.validate({"a": (1, 2)}) == {"a": [1, 2]}
    with pytest.raises(ValueError, match="no secrets"):
        m.validate({"secret": 1})
    with pytest.raises(InvalidConfigError, match="deeper"):
        m.validate({"a": {"b": {}}})
    assert m.current_version == 0


class CountingStore(InMemoryStore):
    """The in-memory store (it copies in place), counting the versions it decodes."""

    def __init__(self) -> None:
        super().__init__()
        self.decoded = 0

    def get(self, version: int) -> ConfigVersion | None:
        self.decoded += 1
        return super().get(version)


def test_rollback_decodes_the_config_only_when_it_is_used():
    store = CountingStore()
    manager = ConfigVersionManager(store)
    manager.create({"model": "a"})
    manager.update({"model": "b"})
    v3 = manager.rollback(1)
    assert store.decoded == 0
    assert v3.version == 3
    assert v3.metadata == {"rollback_from": 2, "rollback_to": 1}
    assert v3.config == {"model": "a"} == manager.current_config
    assert store.decoded == 1


def test_validators_make_a_rollback_check_the_target():
    seen: list[dict] = []
    store = CountingStore()
    manager = ConfigVersionManager(store, validators=[seen.append])
    manager.create({"model": "a"})
    manager.update({"model": "b"})
    manager.rollback(1)
    assert seen[-1] == {"model": "a"}


class UnorderedStore(InMemoryStore):
    """Like PostgreSQL's jsonb: key order is not kept, so the manager may sort."""

    keeps_key_order = False

    def __init__(self) -> None:
        super().__init__()
        self.hashes: list[str | None] = []

    def append(self, version, *, encoded, copy_of=None, content_hash=None, unless_unchanged=False):
        self.hashes.append(content_hash)
        return super().append(
            version,
            encoded=encoded,
            copy_of=copy_of,
            content_hash=content_hash,
            unless_unchanged=unless_unchanged,
        )


def test_a_store_without_key_order_gets_the_canonical_text_and_its_hash():
    from config_versions.core.jsondata import content_hash

    store = UnorderedStore()
    manager = ConfigVersionManager(store)
    config = {"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": None}}
    v1 = manager.create(config)
    assert store._rows[0][1] == '{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}'
    assert store.hashes == [content_hash(config)]
    assert v1.config == config
    v1.config["b"] = 2  # the caller's own copy
    assert manager.current_config == config


@pytest.mark.parametrize(
    "config",
    [{1: "a", "b": 2}, {10: "x", 9: "y"}, {"n": {True: 1}}],
    ids=["mixed keys", "integer keys", "nested bool key"],
)
def test_keys_that_are_not_strings_are_hashed_as_they_read_back(config):
    from config_versions.core.jsondata import content_hash

    store = UnorderedStore()
    manager = ConfigVersionManager(store)
    manager.create(config)
    stored = manager.current_config
    assert all(isinstance(key, str) for key in stored)
    # No hash from the manager: the store hashes the data as JSON gives it back.
    assert store.hashes == [None]
    assert content_hash(stored) == content_hash(json.loads(json.dumps(config)))


def test_the_clock_gives_each_new_version_its_time():
    ticks = iter([100.0, 200.0, 300.0])
    manager = ConfigVersionManager(clock=lambda: next(ticks))
    manager.create({"a": 1})
    manager.update({"a": 2})
    manager.rollback(1)
    assert [v.timestamp for v in manager.get_history()] == [300.0, 200.0, 100.0]
