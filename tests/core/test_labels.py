"""Labels in the core, in memory: every rule of set_label, get_label, labels, resolve and
label_history; to_dict/from_dict with moves; the async twins; listeners.

A property test plays random versions and moves on a clock it controls, then asks
resolve(label, t) at random times; a plain model of "the last move made by t" answers
the same.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config_versions.core import (
    LATEST,
    ConfigVersion,
    ConfigVersionManager,
    InMemoryStore,
    InvalidConfigError,
    LabelMove,
    LabelMoved,
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
    VersionWritten,
)
from config_versions.core.events import Event
from config_versions.core.jsondata import GENESIS
from config_versions.core.labels import MAX_LABEL_LENGTH, move_chain_hash

T0 = 1_700_000_000.0


class Clock:
    """A clock the test moves: ``tick()`` advances it, reads return the same time."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 10.0) -> float:
        self.now += seconds
        return self.now


def history(versions: int = 3, *, labels: list[str] | None = None, **options: Any) -> Any:
    """A manager with ``versions`` versions ({"n": 1}, {"n": 2} ...), one every 10 s."""
    clock = options.pop("clock", None) or Clock()
    manager = ConfigVersionManager(clock=clock, labels=labels, **options)
    for n in range(1, versions + 1):
        manager.save({"n": n}, f"v{n}")
        clock.tick()
    return manager


@pytest.fixture
def manager() -> ConfigVersionManager:
    return history(3, labels=["staging", "production"])


# Moves ------------------------------------------------------------------------------


def test_a_move_is_recorded_numbered_and_chained(manager):
    first = manager.set_label("staging", 2, "try it", created_by="ana")
    assert isinstance(first, LabelMove)
    assert not first.unchanged
    assert (first.label, first.from_version, first.to_version) == ("staging", None, 2)
    assert (first.sequence, first.reason, first.created_by) == (1, "try it", "ana")
    assert first.timestamp == manager.clock()
    assert first.chain_hash == move_chain_hash(GENESIS, first)
    second = manager.set_label("production", 1)
    third = manager.set_label("staging", 3, "ship")
    assert (second.sequence, third.sequence) == (2, 3)  # one numbering for all labels
    assert (third.from_version, third.to_version) == (2, 3)
    assert second.chain_hash == move_chain_hash(first.chain_hash, second)
    assert third.chain_hash == move_chain_hash(second.chain_hash, third)
    assert (second.reason, second.created_by) == ("", None)
    assert manager.get_label("staging") == 3
    assert manager.get_label("production") == 1
    assert manager.labels == {"production": 1, "staging": 3}
    assert list(manager.labels) == ["production", "staging"]  # sorted, no "latest"
    assert manager.label_heads() == {"staging": third, "production": second}


def test_a_label_can_move_back_and_forth(manager):
    manager.set_label("production", 3)
    manager.set_label("production", 1, "bad release")
    manager.set_label("production", 3, "fixed")
    moves = manager.label_history("production")
    assert [(m.from_version, m.to_version) for m in moves] == [(1, 3), (3, 1), (None, 3)]
    assert [m.sequence for m in moves] == [3, 2, 1]


def test_unchanged_moves_write_nothing(manager):
    heard: list[Event] = []
    manager.listeners.append(heard.append)
    move = manager.set_label("staging", 2, "first")
    again = manager.set_label("staging", 2, "again", created_by="bo")
    assert again.unchanged
    assert vars(again) == vars(move)  # the move that set it there, as recorded
    assert (again.reason, again.created_by, again.chain_hash) == ("first", None, move.chain_hash)
    pinned = manager.set_label("staging", 2, expected_version=2)
    assert pinned.unchanged
    assert len(manager.label_history()) == 1
    assert heard == [LabelMoved(move)]


def test_latest_needs_no_move(manager):
    assert manager.get_label(LATEST) == 3
    assert manager.resolve().version == 3
    assert manager.resolve(LATEST).config == {"n": 3}
    manager.update({"n": 4})
    assert manager.get_label("latest") == 4
    assert ConfigVersionManager().get_label("latest") is None
    assert ConfigVersionManager().resolve() is None


def test_a_label_never_set(manager):
    assert manager.get_label("staging") is None
    assert manager.resolve("staging") is None
    assert manager.resolve("staging", as_of=T0 + 1000) is None
    assert manager.label_history("staging") == []
    assert manager.label_history() == []
    assert manager.labels == {}
    assert manager.label_heads() == {}


# Names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "stäging",
        "staging ",
        "staging\n",
        "a/b",
        "a.b",
        "ステージ",
        "a" * (MAX_LABEL_LENGTH + 1),
        None,
        5,
        1.5,
        True,
        b"staging",
        ["staging"],
    ],
    ids=repr,
)
def test_odd_names_are_refused_everywhere(name):
    manager = history(2)  # labels=None: any slug would do
    calls = [
        lambda: manager.set_label(name, 1),
        lambda: manager.get_label(name),
        lambda: manager.resolve(name),
    ]
    if name is not None:  # label_history(None): every label's
        calls.append(lambda: manager.label_history(name))
    for call in calls:
        with pytest.raises(UnknownLabelError) as caught:
            call()
        assert isinstance(caught.value, ValueError)
    assert manager.label_history() == []


def test_any_slug_when_no_labels_are_declared():
    manager = history(2)
    for name in ("canary", "A-b_9", "x", "a" * MAX_LABEL_LENGTH, "LATEST", "Latest"):
        manager.set_label(name, 1)
        assert manager.get_label(name) == 1
    assert len(manager.labels) == 6


def test_undeclared_names_are_refused(manager):
    for call in (
        lambda: manager.set_label("canary", 1),
        lambda: manager.get_label("canary"),
        lambda: manager.resolve("canary"),
        lambda: manager.label_history("canary"),
    ):
        with pytest.raises(UnknownLabelError, match="not declared"):
            call()
    with pytest.raises(UnknownLabelError, match="labels: latest, production, staging"):
        manager.set_label("Staging", 1)  # names are case sensitive
    empty = history(1, labels=[])
    with pytest.raises(UnknownLabelError):
        empty.set_label("staging", 1)
    assert empty.get_label("latest") == 1


def test_latest_cannot_be_moved(manager):
    with pytest.raises(UnknownLabelError, match="cannot be moved"):
        manager.set_label("latest", 1)
    with pytest.raises(UnknownLabelError, match="cannot be moved"):
        history(2).set_label("latest", 1)  # not even with any slug allowed
    with pytest.raises(UnknownLabelError):
        manager.label_history("latest")  # it has no moves
    assert manager.label_history() == []


# Versions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, -1, 4, 10**30, True, False, 1.0, 2.5, "1", None, [1]])
def test_versions_not_held_are_refused(manager, version):
    with pytest.raises(VersionNotFoundError):
        manager.set_label("staging", version)
    assert manager.label_history() == []


def test_no_label_on_an_empty_history():
    manager = ConfigVersionManager()
    with pytest.raises(VersionNotFoundError):
        manager.set_label("staging", 1)
    assert manager.labels == {}


# expected_version ----------------------------------------------------------------------------


def test_expected_version_guards_the_move(manager):
    move = manager.set_label("staging", 1, expected_version=0)  # 0: "not set yet"
    assert move.to_version == 1
    with pytest.raises(VersionConflictError) as caught:
        manager.set_label("staging", 2, expected_version=0)
    assert (caught.value.expected_version, caught.value.actual_version) == (0, 1)
    assert "expected 'staging' at not set, but it is at 1" in str(caught.value)
    with pytest.raises(VersionConflictError) as caught:
        manager.set_label("staging", 3, expected_version=2)
    assert (caught.value.expected_version, caught.value.actual_version) == (2, 1)
    assert manager.set_label("staging", 3, expected_version=1).to_version == 3
    # Unset label, expected at a version: the actual version is 0.
    with pytest.raises(VersionConflictError) as caught:
        manager.set_label("production", 1, expected_version=1)
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 0)
    assert "but it is at not set" in str(caught.value)
    assert manager.labels == {"staging": 3}


def test_an_unchanged_move_still_checks_expected_version(manager):
    manager.set_label("staging", 2)
    with pytest.raises(VersionConflictError):
        manager.set_label("staging", 2, expected_version=1)
    with pytest.raises(VersionConflictError):
        manager.set_label("staging", 2, expected_version=0)


@pytest.mark.parametrize("expected", [-1, True, False, 1.0, "1", [1]])
def test_expected_version_must_be_a_number(manager, expected):
    with pytest.raises(TypeError, match="expected_version"):
        manager.set_label("staging", 1, expected_version=expected)
    assert manager.label_history() == []


def test_the_version_is_checked_before_the_conflict(manager):
    manager.set_label("staging", 1)
    with pytest.raises(VersionNotFoundError):
        manager.set_label("staging", 9, expected_version=2)


# Recorded fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "created_by"),
    [
        (None, None),
        (5, None),
        ("r" * 10_001, None),
        ("a\x00b", None),
        ("", 5),
        ("", "x" * 256),
        ("", "\x00"),
        ("\ud800", None),
    ],
)
def test_reason_and_author_are_checked(manager, reason, created_by):
    with pytest.raises(InvalidConfigError):
        manager.set_label("staging", 1, reason, created_by=created_by)
    assert manager.label_history() == []


def test_limits_follow_the_manager():
    manager = history(1, max_reason_length=5)
    manager.set_label("staging", 1, "12345")
    with pytest.raises(InvalidConfigError):
        manager.set_label("staging", 1, "123456")
    manager.set_label("prod", 1, "", created_by="x" * 255)


# Time travel -----------------------------------------------------------------------------


@pytest.fixture
def travelled() -> tuple[ConfigVersionManager, Clock, list[LabelMove]]:
    """Versions at T0, T0+10, T0+20; production set to 1 at T0+100, 3 at T0+200, 2 at
    T0+300."""
    clock = Clock()
    manager = history(3, clock=clock)
    moves = []
    for at, version in ((100, 1), (200, 3), (300, 2)):
        clock.now = T0 + at
        moves.append(manager.set_label("production", version))
    return manager, clock, moves


def test_as_of_a_timestamp(travelled):
    manager, _, moves = travelled
    assert manager.resolve("production", T0 + 99.999) is None  # before the first move
    assert manager.resolve("production", T0 + 100).version == 1  # a move at t shows at t
    assert manager.resolve("production", moves[0].timestamp).version == 1
    assert manager.resolve("production", T0 + 199.5).version == 1
    assert manager.resolve("production", T0 + 200).version == 3
    assert manager.resolve("production", int(T0) + 250).version == 3  # an int
    assert manager.resolve("production", T0 + 300).version == 2
    assert manager.resolve("production", T0 + 10**6).version == 2
    assert manager.resolve("production", 0) is None
    assert manager.resolve("production", -1e9) is None
    assert manager.resolve("production").config == {"n": 2}


def test_as_of_aware_datetimes_in_any_zone(travelled):
    manager, _, _ = travelled
    at = dt.datetime.fromtimestamp(T0 + 200, tz=dt.UTC)
    tokyo = at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    new_york = at.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    for moment in (at, tokyo, new_york):
        assert manager.resolve("production", moment).version == 3
        assert manager.resolve("production", moment - dt.timedelta(microseconds=1)).version == 1
    assert manager.resolve("latest", tokyo).version == 3


@pytest.mark.parametrize(
    "as_of",
    [
        dt.datetime(2024, 1, 1),  # naive: which zone?
        dt.datetime.now(),
        "2024-01-01T00:00:00Z",
        True,
        math.nan,
        math.inf,
        -math.inf,
        dt.date(2024, 1, 1),
        [T0],
    ],
    ids=repr,
)
def test_as_of_must_be_a_time(travelled, as_of):
    manager, _, _ = travelled
    for label in ("production", "latest"):
        with pytest.raises(InvalidConfigError) as caught:
            manager.resolve(label, as_of)
        assert caught.value.field == "as_of"


def test_latest_as_of(travelled):
    manager, _, _ = travelled
    assert manager.resolve("latest", T0 - 0.001) is None  # before the first version
    assert manager.resolve("latest", T0).version == 1
    assert manager.resolve("latest", T0 + 15).version == 2
    assert manager.resolve("latest", T0 + 20).version == 3
    assert manager.resolve("latest", T0 + 10**6).version == 3


def test_as_of_an_unknown_label_is_still_refused(travelled):
    manager, _, _ = travelled
    declared = history(1, labels=["staging"])
    with pytest.raises(UnknownLabelError):
        declared.resolve("production", T0)
    with pytest.raises(UnknownLabelError):
        manager.resolve("", T0)


def test_moves_at_the_same_instant_resolve_to_the_last(manager):
    manager.set_label("staging", 1)
    manager.set_label("staging", 2)
    manager.set_label("staging", 3)
    assert manager.resolve("staging", manager.clock()).version == 3


def test_resolve_returns_a_private_copy(manager):
    manager.set_label("staging", 2)
    found = manager.resolve("staging")
    assert isinstance(found, ConfigVersion)
    found.config["n"] = 99
    assert manager.resolve("staging").config == {"n": 2}


# History -----------------------------------------------------------------------------------


def test_label_history_newest_first(manager):
    a = manager.set_label("staging", 1)
    b = manager.set_label("production", 2)
    c = manager.set_label("staging", 3)
    assert manager.label_history() == [c, b, a]
    assert manager.label_history("staging") == [c, a]
    assert manager.label_history("production") == [b]


# Serialisation ------------------------------------------------------------------------------


def _moved(manager: ConfigVersionManager) -> ConfigVersionManager:
    """Four moves, ten seconds apart."""
    clock = manager.clock
    assert isinstance(clock, Clock)
    for name, version, reason, by in (
        ("staging", 2, "try", "ana"),
        ("production", 1, "ship", None),
        ("staging", 3, "", None),
        ("production", 3, "ship again", "bo"),
    ):
        manager.set_label(name, version, reason, created_by=by)
        clock.tick()
    return manager


def test_to_dict_lists_moves_oldest_first(manager):
    assert "label_moves" not in manager.to_dict()  # none yet: the seed's shape
    _moved(manager)
    data = manager.to_dict()
    moves = data["label_moves"]
    assert [m["sequence"] for m in moves] == [1, 2, 3, 4]
    assert moves[0] == {
        "sequence": 1,
        "label": "staging",
        "from_version": None,
        "to_version": 2,
        "timestamp": manager.label_history()[-1].timestamp,
        "reason": "try",
        "created_by": "ana",
        "chain_hash": manager.label_history()[-1].chain_hash,
    }


def test_round_trip_keeps_labels(manager):
    _moved(manager)
    data = manager.to_dict()
    restored = ConfigVersionManager.from_dict(copy.deepcopy(data), labels=["staging", "production"])
    assert restored.labels == manager.labels == {"production": 3, "staging": 3}
    assert restored.label_history() == manager.label_history()
    assert [m.chain_hash for m in restored.label_history()] == [
        m.chain_hash for m in manager.label_history()
    ]
    assert restored.to_dict() == data
    at = manager.label_history("production")[-1].timestamp
    assert restored.resolve("production", at).version == 1


def test_round_trip_with_a_clock_of_whole_seconds():
    # An int timestamp hashes as its float: the dump's chain hashes replay.
    manager = ConfigVersionManager(clock=lambda: 1_700_000_000)
    manager.create({"a": 1})
    manager.set_label("staging", 1)
    restored = ConfigVersionManager.from_dict(manager.to_dict())
    assert restored.label_history()[0].chain_hash == manager.label_history()[0].chain_hash


def test_from_dict_without_moves_still_works():
    seed = {
        "current_version": 2,
        "versions": [
            {"version": 1, "config": {"a": 1}, "timestamp": T0, "reason": "first"},
            {"version": 2, "config": {"a": 2}, "timestamp": T0 + 1, "reason": "second"},
        ],
    }
    manager = ConfigVersionManager.from_dict(seed)
    assert manager.labels == {}
    assert manager.label_history() == []
    assert manager.resolve().version == 2
    assert "label_moves" not in manager.to_dict()
    assert ConfigVersionManager.from_dict({**seed, "label_moves": []}).labels == {}


def test_from_dict_of_moves_without_hashes_chains_them(manager):
    _moved(manager)
    data = manager.to_dict()
    for move in data["label_moves"]:
        del move["chain_hash"]
        del move["sequence"]
    restored = ConfigVersionManager.from_dict(data)
    assert restored.label_history() == manager.label_history()  # chained alike


def _broken(manager: ConfigVersionManager, change: str) -> dict[str, Any]:
    data = _moved(manager).to_dict()
    moves = data["label_moves"]
    if change == "reason edited":
        moves[1]["reason"] = "innocent"
    elif change == "author edited":
        moves[2]["created_by"] = "mallory"
    elif change == "timestamp edited":
        moves[1]["timestamp"] += 1
    elif change == "target edited, and the next move's start":
        moves[1]["to_version"] = 2
        moves[3]["from_version"] = 2
    elif change == "reordered":
        moves[1], moves[2] = moves[2], moves[1]
    elif change == "reordered and renumbered":
        moves[1], moves[2] = moves[2], moves[1]
        moves[1]["sequence"], moves[2]["sequence"] = 2, 3
    elif change == "middle move removed":
        del moves[1]
    elif change == "discontinuous":
        moves[2]["from_version"] = 1
        del moves[2]["chain_hash"]
    elif change == "first move from a version":
        moves[0]["from_version"] = 1
        del moves[0]["chain_hash"]
    elif change == "from_version True":
        moves[3]["from_version"] = True  # == 1, where production was
        for move in moves:
            move.pop("chain_hash")
    elif change == "version not held":
        moves[3]["to_version"] = 4
    elif change == "versions cut":
        del data["versions"][2]
    elif change == "latest moved":
        moves[0]["label"] = "latest"
    elif change == "undeclared":
        moves[0]["label"] = "canary"
    elif change == "not a list":
        data["label_moves"] = {"1": moves[0]}
    elif change == "an entry not an object":
        moves[0] = "move"
    elif change == "no label":
        del moves[0]["label"]
    elif change == "timestamp a string":
        moves[0]["timestamp"] = "now"
    elif change == "reason a number":
        moves[0]["reason"] = 5
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("reason edited", "Label move 2: its recorded fields do not match its chain hash"),
        ("author edited", "Label move 3: its recorded fields do not match"),
        ("timestamp edited", "Label move 2: its recorded fields do not match"),
        ("target edited, and the next move's start", "Label move 2: its recorded fields"),
        ("reordered", "Label move 2 has number 3; moves go 1, 2"),
        ("reordered and renumbered", "Label move 2: its recorded fields do not match"),
        ("middle move removed", "Label move 2 has number 3"),
        ("discontinuous", "Label move 3 moves 'staging' from 1, but it was at 2"),
        ("first move from a version", "Label move 1 moves 'staging' from 1, but it was at None"),
        ("from_version True", "Label move 4 moves 'production' from True: no version"),
        ("version not held", "Label move 4 points at version 4: not held"),
        ("versions cut", "Label move 3 points at version 3: not held"),
        ("latest moved", "Label move 1: 'latest' always points at the newest version"),
        ("undeclared", "Label move 1: Label 'canary' is not declared"),
        ("not a list", "'label_moves' must be a list"),
        ("an entry not an object", "Label move 1 is not an object"),
        ("no label", "Label move 1 has no 'label' field"),
        ("timestamp a string", "Label move 1 has no numeric timestamp"),
        ("reason a number", "reason must be text"),
    ],
)
def test_from_dict_refuses_moves_that_do_not_follow(manager, change, message):
    data = _broken(manager, change)
    with pytest.raises(ValueError, match=re.escape(message)):
        ConfigVersionManager.from_dict(data, labels=["staging", "production"])


# Async twins ---------------------------------------------------------------------------------


def test_async_twins(manager):
    async def scenario() -> tuple[Any, ...]:
        move = await manager.aset_label("staging", 2, "async", created_by="ana")
        again = await manager.aset_label("staging", 2)
        with pytest.raises(VersionConflictError):
            await manager.aset_label("staging", 3, expected_version=1)
        with pytest.raises(UnknownLabelError):
            await manager.aget_label("canary")
        return (
            move,
            again,
            await manager.aget_label("staging"),
            await manager.aget_label("latest"),
            await manager.alabels(),
            await manager.aresolve("staging"),
            await manager.aresolve("staging", as_of=move.timestamp - 1),
            await manager.aresolve(),
            await manager.alabel_history(),
            await manager.alabel_history("production"),
        )

    move, again, got, latest, labels, found, before, newest, moves, none = asyncio.run(scenario())
    assert (move.to_version, move.reason, move.created_by) == (2, "async", "ana")
    assert again.unchanged
    assert (got, latest, labels) == (2, 3, {"staging": 2})
    assert found.config == {"n": 2}
    assert before is None
    assert newest.version == 3
    assert moves == [move]
    assert none == []


# Listeners ---------------------------------------------------------------------------------


def test_listeners_hear_each_move_once():
    heard: list[Event] = []
    manager = history(3, listeners=[heard.append])
    assert [type(e) for e in heard] == [VersionWritten] * 3
    heard.clear()
    first = manager.set_label("staging", 1)
    manager.set_label("staging", 1)  # unchanged: nothing to hear
    second = manager.set_label("staging", 2, expected_version=1)
    for refused in (
        lambda: manager.set_label("staging", 3, expected_version=1),
        lambda: manager.set_label("staging", 7),
        lambda: manager.set_label("latest", 1),
    ):
        with pytest.raises((VersionConflictError, ValueError)):
            refused()
    assert heard == [LabelMoved(first), LabelMoved(second)]
    assert heard[1].move.from_version == 1


def test_from_dict_tells_listeners_of_replayed_moves(manager):
    data = _moved(manager).to_dict()
    heard: list[Event] = []
    ConfigVersionManager.from_dict(data, listeners=[heard.append])
    moved = [e.move for e in heard if isinstance(e, LabelMoved)]
    assert [m.sequence for m in moved] == [1, 2, 3, 4]


# A store without labels ---------------------------------------------------------------------


class VersionsOnly:
    """A custom store that keeps versions but no labels (delegates to InMemoryStore)."""

    def __init__(self) -> None:
        self._inner = InMemoryStore()

    def __getattr__(self, name: str) -> Any:
        if name in {"label_head", "label_heads", "label_at", "label_moves", "version_at"}:
            raise AttributeError(name)
        if name == "append_label_move":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_a_store_without_labels_says_so():
    manager = ConfigVersionManager(VersionsOnly())
    manager.create({"a": 1})
    with pytest.raises(TypeError, match="keeps no labels"):
        manager.set_label("staging", 1)
    with pytest.raises(TypeError, match="keeps no labels"):
        manager.resolve("staging")
    assert manager.get_label("latest") == 1
    assert "label_moves" not in manager.to_dict()


# The model ---------------------------------------------------------------------------------

LABELS = ["staging", "production", "canary"]

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("version"), st.floats(0, 50)),
        st.tuples(
            st.just("move"),
            st.floats(0, 50),
            st.sampled_from(LABELS),
            st.integers(1, 12),
        ),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(steps=STEPS, times=st.lists(st.floats(-10, 2100), min_size=1, max_size=15))
def test_resolve_as_of_matches_a_model(steps, times):
    clock = Clock(0.0)
    manager = ConfigVersionManager(clock=clock)
    versions: list[float] = []  # the timestamp of version n at index n - 1
    moves: list[tuple[float, str, int]] = []
    for step in steps:
        clock.tick(step[1])  # may be 0: several writes at one instant
        if step[0] == "version":
            manager.save({"n": len(versions) + 1})
            versions.append(clock.now)
            continue
        _, _, label, target = step
        if target > len(versions):
            with pytest.raises(VersionNotFoundError):
                manager.set_label(label, target)
            continue
        current = next((v for _, name, v in reversed(moves) if name == label), None)
        move = manager.set_label(label, target)
        assert move.unchanged == (current == target)
        if current != target:
            assert move.from_version == current
            moves.append((clock.now, label, target))
    # Ask at the recorded instants too: a move at t is visible at t.
    for t in times + [t for t, _, _ in moves] + versions:
        for label in LABELS:
            expected = next(
                (v for at, name, v in reversed(moves) if name == label and at <= t), None
            )
            found = manager.resolve(label, t)
            assert (found.version if found else None) == expected, (label, t)
        newest = max((n for n, at in enumerate(versions, 1) if at <= t), default=None)
        found = manager.resolve("latest", t)
        assert (found.version if found else None) == newest, t
    assert len(manager.label_history()) == len(moves)
    assert manager.labels == {
        name: next(v for _, n, v in reversed(moves) if n == name)
        for name in sorted({name for _, name, _ in moves})
    }
    restored = ConfigVersionManager.from_dict(manager.to_dict())
    assert restored.label_history() == manager.label_history()
