"""One table of inputs, run against the in-memory store and the database: same answers.

Every rule lives in the manager, so where a version is kept must not change what is
accepted, what is refused (and with which error), and what counts as "no change".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config_versions import (
    ConfigExistsError,
    ConfigVersion,
    ConfigVersionManager,
    InvalidConfigError,
    NoConfigError,
    VersionConflictError,
    VersionNotFoundError,
    VersionWritten,
)
from config_versions.models import BotConfig, BotConfigVersion
from config_versions.storage import DatabaseStore

pytestmark = pytest.mark.django_db

SEED = {"name": "Bot", "llm": {"model": "gpt-4"}}


@pytest.fixture(params=["memory", "database"])
def make(request: pytest.FixtureRequest, db: Any) -> Callable[..., ConfigVersionManager]:
    """A factory of empty managers on one kind of store."""

    def build(**options: Any) -> ConfigVersionManager:
        if request.param == "memory":
            return ConfigVersionManager(**options)
        bot = BotConfig.objects.create(name="Rules", slug=f"rules-{BotConfig.objects.count()}")
        return ConfigVersionManager(DatabaseStore(bot), **options)

    return build


def _count(manager: ConfigVersionManager) -> int:
    return len(manager)


# Recorded fields: what each store refuses, and the field the error names -------------------

LONG = "x" * 10_001
FIELD_CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("reason at the limit", {"reason": "x" * 10_000}, None),
    ("reason over the limit", {"reason": LONG}, "reason"),
    ("reason with NUL", {"reason": "a\x00b"}, "reason"),
    ("reason with a lone surrogate", {"reason": "a\ud800b"}, "reason"),
    ("reason not text", {"reason": 5}, "reason"),
    ("unicode reason", {"reason": "Zürich 🚀 \u2028 ok"}, None),
    ("author at 255", {"created_by": "a" * 255}, None),
    ("author over 255", {"created_by": "a" * 256}, "created_by"),
    ("author with NUL", {"created_by": "a\x00"}, "created_by"),
    ("author with a lone surrogate", {"created_by": "\udfff"}, "created_by"),
    ("metadata not an object", {"metadata": ["a"]}, "metadata"),
    ("metadata with NUL", {"metadata": {"k": "a\x00"}}, "metadata"),
    ("metadata with a lone surrogate key", {"metadata": {"\ud800": 1}}, "metadata"),
    ("metadata with NaN", {"metadata": {"k": float("nan")}}, "metadata"),
    ("config with NUL", {"config": {"k": "\x00"}}, "config"),
    ("config with a lone surrogate", {"config": {"k": "\ud83d"}}, "config"),
    ("config not an object", {"config": [1]}, "config"),
]


@pytest.mark.parametrize(
    ("case", "fields", "refused"), FIELD_CASES, ids=[c[0] for c in FIELD_CASES]
)
def test_recorded_fields_are_checked_on_every_store(make, case, fields, refused):
    manager = make()
    manager.create(SEED)
    update = {"config": {"changed": True}, **fields}
    if refused is None:
        written = manager.update(**update)
        assert written.version == 2
        stored = manager.get_version(2)
        assert stored is not None
        assert (stored.reason, stored.created_by) == (written.reason, written.created_by)
        return
    with pytest.raises(InvalidConfigError) as info:
        manager.update(**update)
    assert info.value.field == refused
    assert _count(manager) == 1
    # create() applies the same checks.
    fresh = make()
    with pytest.raises(InvalidConfigError):
        fresh.create(**{"config": SEED, **fields})
    assert _count(fresh) == 0


def test_reason_limit_follows_the_option(make):
    manager = make(max_reason_length=5)
    manager.create(SEED, reason="12345")
    with pytest.raises(InvalidConfigError, match="limit is 5"):
        manager.update({"a": 1}, reason="123456")
    with pytest.raises(InvalidConfigError) as info:
        manager.rollback(1, reason="123456")
    assert info.value.field == "reason"


# No-op writes ------------------------------------------------------------------------------


def test_update_to_the_current_config_writes_nothing(make):
    manager = make()
    manager.create(SEED)
    same = manager.update({"llm": {"model": "gpt-4"}, "name": "Bot"}, reason="again")
    assert same.unchanged
    assert same.version == 1
    assert same.reason == "Initial configuration"  # the current version, not a new one
    assert same.config == SEED
    assert _count(manager) == 1
    changed = manager.update({**SEED, "name": "Bot 2"})
    assert not changed.unchanged
    assert changed.version == 2


def test_equal_numbers_of_another_type_are_a_change(make):
    manager = make()
    manager.create({"n": 1})
    assert not manager.update({"n": 1.0}).unchanged
    assert not manager.update({"n": True}).unchanged
    assert manager.update({"n": True}).unchanged


def test_unchanged_with_an_expected_version(make):
    manager = make()
    manager.create(SEED)
    manager.update({"a": 1})
    assert manager.update({"a": 1}, expected_version=2).unchanged
    # A stale expectation is still a conflict, even when the config equals an old one.
    with pytest.raises(VersionConflictError):
        manager.update(SEED, expected_version=1)
    with pytest.raises(VersionConflictError):
        manager.update({"a": 1}, expected_version=1)


def test_rollback_to_the_current_config_writes_nothing(make):
    manager = make()
    manager.create(SEED)
    manager.update({"a": 1})
    manager.rollback(1)  # version 3 == version 1
    again = manager.rollback(1)
    assert again.unchanged
    assert again.version == 3
    assert manager.rollback(3).unchanged
    assert _count(manager) == 3
    assert manager.rollback(2).version == 4


def test_unchanged_compares_with_the_newest_version_not_a_stale_one(make):
    """A writer that last saw version 1 must not call its write a no-op when the
    config equals version 1 but a newer version differs."""
    manager = make()
    manager.create({"a": 1})
    other = manager
    if isinstance(manager.store, DatabaseStore):
        other = ConfigVersionManager(DatabaseStore(manager.store.bot_config))
    other.update({"a": 2})
    written = manager.update({"a": 1})
    assert not written.unchanged
    assert written.version == 3
    assert manager.current_config == {"a": 1}


def test_listeners_hear_only_real_writes(make):
    heard: list[VersionWritten] = []
    manager = make(listeners=[heard.append])
    manager.create(SEED)
    manager.update(SEED)
    manager.update({"a": 1})
    manager.rollback(1)
    manager.rollback(1)
    assert [(e.version.version, e.rollback_to) for e in heard] == [(1, None), (2, None), (3, 1)]


# Typed errors --------------------------------------------------------------------------


def test_typed_errors_keep_the_seed_messages(make):
    manager = make()
    with pytest.raises(NoConfigError, match="No configuration exists"):
        manager.update({"a": 1})
    with pytest.raises(NoConfigError):
        manager.rollback(1)
    manager.create(SEED)
    with pytest.raises(ConfigExistsError, match="already exists"):
        manager.create(SEED)
    for missing in (9, 0, -1, True, "1", 2**40):
        with pytest.raises(VersionNotFoundError, match="not found") as info:
            manager.rollback(missing)
        assert info.value.version == missing
    with pytest.raises(VersionNotFoundError):
        manager.diff(1, 7)
    for error in (NoConfigError, ConfigExistsError, VersionNotFoundError, InvalidConfigError):
        assert issubclass(error, ValueError)
    assert _count(manager) == 1


# The one save path ----------------------------------------------------------------------


def test_save_creates_then_updates(make):
    manager = make()
    first = manager.save(SEED)
    assert (first.version, first.reason) == (1, "Initial configuration")
    second = manager.save({"a": 1}, "")
    assert (second.version, second.reason) == (2, "Configuration update")
    assert manager.save({"a": 1}).unchanged


def test_save_with_expected_version_zero_conflicts_once_created(make):
    manager = make()
    assert manager.save(SEED, expected_version=0).version == 1
    with pytest.raises(VersionConflictError) as info:
        manager.save({"a": 1}, expected_version=0)
    assert (info.value.expected_version, info.value.actual_version) == (0, 1)


def test_save_merges_from_a_stale_base(make):
    manager = make()
    manager.create({"a": 1, "b": 1})
    manager.update({"a": 2, "b": 1})
    merged = manager.save({"a": 1, "b": 2}, base_version=1)
    assert merged.config == {"a": 2, "b": 2}
    assert merged.metadata == {"merged_from": 1, "merged_onto": 2}
    # No edit since the base: nothing to merge, nothing written.
    assert manager.save({"a": 1, "b": 1}, base_version=1).unchanged
    with pytest.raises(VersionConflictError) as info:
        manager.save({"a": 9, "b": 1}, base_version=1)
    assert info.value.actual_version == 3
    with pytest.raises(TypeError):
        manager.save(SEED, expected_version=1, base_version=1)


def test_preview_merge_writes_nothing(make):
    manager = make()
    manager.create({"a": 1, "b": 1})
    manager.update({"a": 2, "b": 1})
    clean = manager.preview_merge({"a": 1, "b": 2}, 1)
    assert (clean.merged, clean.conflicts, clean.onto_version) == ({"a": 2, "b": 2}, [], 2)
    assert clean.clean
    clash = manager.preview_merge({"a": 3, "b": 1}, 1)
    assert (clash.merged, clash.conflicts) == (None, ["/a"])
    assert _count(manager) == 2
    with pytest.raises(VersionNotFoundError):
        manager.preview_merge({}, 5)


def test_a_noop_rollback_costs_one_statement_more_at_most(bot_with_history):
    manager = bot_with_history.version_manager
    manager.rollback(1)
    with CaptureQueriesContext(connection) as queries:
        assert manager.rollback(1).unchanged
    # The INSERT that wrote nothing, whether the target exists, and the current version
    # (savepoints only come from the test's own transaction).
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    # MySQL: the config's row lock and the content hash come first (see serialized()).
    assert len(statements) == (5 if connection.vendor == "mysql" else 3), statements
    assert BotConfigVersion.objects.filter(bot_config=bot_with_history).count() == 3


def test_values_from_reads_are_plain_versions(make):
    manager = make()
    manager.create(SEED)
    version = manager.get_version(1)
    assert isinstance(version, ConfigVersion)
    assert not version.unchanged


def test_a_write_of_the_current_config_is_unchanged_even_if_todays_rules_refuse_it(make):
    """Rules judge new versions; a write that changes nothing is not refused by them."""
    manager = make()
    manager.create({"n": 1})
    manager.update({"n": 2})

    def only_small(config: dict[str, Any]) -> None:
        if config["n"] > 1:
            raise ValueError("n must be at most 1")

    manager.validators.append(only_small)
    assert manager.update({"n": 2}).unchanged
    assert manager.rollback(2).unchanged
    with pytest.raises(ValueError, match="at most 1"):
        manager.update({"n": 3})
    with pytest.raises(VersionConflictError):
        manager.update({"n": 2}, expected_version=1)
    with pytest.raises(ValueError, match="at most 1"):
        manager.validate({"n": 2})
    assert manager.rollback(1).version == 3
    assert _count(manager) == 3
