"""Exports carry label moves; imports check them (issue 13).

A ``config_versions.history/3`` export (and /4) lists every label move with its chain hash and
the last move's (``label_chain_hash``). The import recomputes them and refuses the whole
file, in one line naming the move, when a move was edited, removed, added or reordered;
``/2`` files (no moves) and ``--unverified`` dumps are imported as before.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_versions import ConfigVersionManager, UnknownLabelError
from config_versions.core.jsondata import GENESIS
from config_versions.core.labels import MOVE_FIELDS, LabelMove, move_chain_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.integrity import check_history, verify_history
from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigVersion
from tests.test_export_import import VALUES, export, write
from tests.test_verify_labels import LABELS, released, set_move

KEY = "x" * 40
_ENGINE = django_settings.DATABASES["default"]["ENGINE"]
EXAMPLES = int(os.environ.get("CV_MUTATION_EXAMPLES", 150 if _ENGINE.endswith("sqlite3") else 60))


@pytest.fixture(autouse=True)
def _labels(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS}


def moves_of(slug: str) -> list[dict[str, Any]]:
    """The config's moves as to_dict() lists them (with their chain hashes)."""
    data = BotConfig.objects.get(slug=slug).version_manager.to_dict()
    moves: list[dict[str, Any]] = data.get("label_moves", [])
    return moves


def imported(path: Path, slug: str = "copy", **options: Any) -> str:
    out = StringIO()
    call_command("import_config_history", str(path), slug=slug, stdout=out, **options)
    return out.getvalue()


def refused(path: Path, slug: str = "copy", **options: Any) -> str:
    """Import ``path``; assert a one-line CommandError and nothing written; the message."""
    before = BotConfigVersion.objects.count(), BotConfigLabelMove.objects.count()
    with pytest.raises(CommandError) as caught:
        imported(path, slug, **options)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert message.endswith("; nothing imported."), message
    assert not BotConfig.objects.filter(slug=slug).exists()
    assert (BotConfigVersion.objects.count(), BotConfigLabelMove.objects.count()) == before
    return message


# Exports -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_export_carries_every_move_and_the_moves_head(tmp_path):
    released("alpha")
    document = export("alpha")
    assert document["format"] == "config_versions.history/4"
    assert document["label_moves"] == moves_of("alpha")
    rows = list(BotConfigLabelMove.objects.order_by("sequence"))
    assert [m["chain_hash"] for m in document["label_moves"]] == [r.chain_hash for r in rows]
    assert document["label_chain_hash"] == rows[-1].chain_hash
    assert document["label_moves"][4] == {
        "sequence": 5,
        "label": "production",
        "from_version": 1,
        "to_version": 3,
        "timestamp": rows[4].timestamp,
        "reason": "ship",
        "created_by": "bo",
        "chain_hash": rows[4].chain_hash,
    }
    # The text is what json.dump would write, to stdout or to a file.
    out = StringIO()
    call_command("export_config_history", "alpha", stdout=out)
    text = out.getvalue()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    err = StringIO()
    call_command("export_config_history", "alpha", output=str(tmp_path / "a.json"), stderr=err)
    assert (tmp_path / "a.json").read_text() == text
    assert "Exported 3 version(s) and 6 label move(s) of 'alpha'" in err.getvalue()


@pytest.mark.django_db
def test_an_export_of_moves_without_versions_of_its_own():
    BotConfig.objects.create(name="Empty", slug="empty")
    document = export("empty")
    assert (document["versions"], document["label_moves"], document["label_chain_hash"]) == (
        [],
        [],
        "",
    )


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS={"SIGNING_KEY": KEY, "LABELS": LABELS})
def test_an_export_carries_move_signatures_the_import_does_not_copy(tmp_path):
    released("alpha")
    document = export("alpha")
    for move in document["label_moves"]:
        assert move["signature"] == sign_chain_hash(KEY, move["chain_hash"])
    other = "y" * 40
    with override_settings(CONFIG_VERSIONS={"SIGNING_KEY": other, "LABELS": LABELS}):
        imported(write(tmp_path / "h.json", document))
        copy_bot = BotConfig.objects.get(slug="copy")
        assert verify_history(copy_bot) is None
    rows = BotConfigLabelMove.objects.filter(bot_config=copy_bot)
    for link, signature in rows.values_list("chain_hash", "signature"):
        assert signature == sign_chain_hash(other, link)


@pytest.mark.django_db(transaction=True)
def test_an_export_of_tampered_moves_warns_and_is_refused(tmp_path):
    bot = released("alpha")
    set_move(bot, 4, reason="innocent")
    err = StringIO()
    path = tmp_path / "h.json"
    call_command("export_config_history", "alpha", output=str(path), stderr=err)
    assert "Warning: the history does not verify (alpha: label move 4 (staging): its " in (
        err.getvalue()
    )
    assert "label move 4 (staging): its recorded fields (or the chain hash before it)" in (
        refused(path)
    )


# Round trips ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_round_trip_keeps_labels_exactly(tmp_path):
    bot = released("alpha")
    path = write(tmp_path / "h.json", export("alpha"))
    assert imported(path) == "Imported 3 version(s) and 6 label move(s) into 'copy'.\n"
    original, copied = bot.version_manager, BotConfig.objects.get(slug="copy").version_manager
    assert copied.labels == original.labels == {"canary": 2, "production": 3, "staging": 3}
    assert copied.label_history() == original.label_history()  # every field and hash
    assert copied.to_dict() == original.to_dict()
    at = original.label_history("production")[-1].timestamp
    assert copied.resolve("production", at).version == 1
    assert verify_history(BotConfig.objects.get(slug="copy")) is None
    again = export("copy")
    assert again["label_moves"] == export("alpha")["label_moves"]
    assert again["label_chain_hash"] == export("alpha")["label_chain_hash"]


@pytest.mark.django_db
def test_labels_are_imported_as_recorded_even_if_not_declared_here(tmp_path):
    released("alpha")
    path = write(tmp_path / "h.json", export("alpha"))
    with override_settings(CONFIG_VERSIONS={"LABELS": {"staging": {}}}):
        imported(path)
        manager = BotConfig.objects.get(slug="copy").version_manager
        assert manager.labels == {"canary": 2, "production": 3, "staging": 3}
        with pytest.raises(UnknownLabelError):
            manager.set_label("canary", 1)  # new moves obey today's labels
        manager.set_label("staging", 1)


@pytest.mark.django_db
def test_an_old_history_2_export_is_still_imported(tmp_path):
    released("alpha")
    document = export("alpha")
    dropped = ("label_moves", "label_chain_hash", "proposal_events", "proposal_chain_hash")
    old = {k: v for k, v in document.items() if k not in dropped}
    old["format"] = "config_versions.history/2"
    assert imported(write(tmp_path / "old.json", old)) == "Imported 3 version(s) into 'copy'.\n"
    copied = BotConfig.objects.get(slug="copy")
    assert copied.version_manager.labels == {}
    assert verify_history(copied) is None
    # A /2 file with moves was not written by export_config_history: refused, not dropped.
    mixed = {**document, "format": "config_versions.history/2"}
    assert "format config_versions.history/2 has no label moves, yet the file lists" in (
        refused(write(tmp_path / "mixed.json", mixed), slug="other")
    )


# Edited, removed, reordered: refused ---------------------------------------------------------


def _edit(document: dict[str, Any], change: str) -> None:
    moves = document["label_moves"]
    if change == "reason":
        moves[2]["reason"] = "nothing to see"
    elif change == "author":
        moves[2]["created_by"] = "mallory"
    elif change == "timestamp":
        moves[2]["timestamp"] += 0.5
    elif change == "label":
        moves[2]["label"] = "canary"
    elif change == "target":
        moves[1]["to_version"] = 2
    elif change == "start":
        moves[2]["from_version"] = 2
    elif change == "chain hash":
        moves[2]["chain_hash"] = "0" * 64
    elif change == "middle move removed":
        del moves[2]
    elif change == "first move removed":
        del moves[0]
    elif change == "reordered":
        moves[1], moves[2] = moves[2], moves[1]
    elif change == "reordered and renumbered":
        moves[1], moves[2] = moves[2], moves[1]
        moves[1]["sequence"], moves[2]["sequence"] = 2, 3
    elif change == "last move removed":
        del moves[5]
    elif change == "a move added":
        moves.append({**moves[5], "sequence": 7, "from_version": 2, "to_version": 3})
    elif change == "head edited":
        document["label_chain_hash"] = "0" * 64
    elif change == "all moves removed":
        document["label_moves"] = []
    elif change == "moves list removed":
        del document["label_moves"]


EDITS = [
    ("reason", "label move 3 (staging): its recorded fields (or the chain hash before it)"),
    ("author", "label move 3 (staging): its recorded fields"),
    ("timestamp", "label move 3 (staging): its recorded fields"),
    ("label", "label move 3 (canary): its recorded fields"),
    ("target", "label move 2 (production): its recorded fields"),
    ("start", "label move 3 (staging): its recorded fields"),
    ("chain hash", "label move 3 (staging): its recorded fields"),
    ("middle move removed", "label move entry 3 has number 4; label moves must be numbered"),
    ("first move removed", "label move entry 1 has number 2"),
    ("reordered", "label move entry 2 has number 3"),
    ("reordered and renumbered", "label move 2 (staging): its recorded fields"),
    ("last move removed", "the label moves' chain does not end at the file's label_chain_hash"),
    ("a move added", "label move 7 (canary): its recorded fields"),
    ("head edited", "the label moves' chain does not end at the file's label_chain_hash"),
    ("all moves removed", "the label moves' chain does not end at the file's label_chain_hash"),
    ("moves list removed", "no label_moves"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "message"), EDITS, ids=[e[0] for e in EDITS])
def test_an_edited_export_is_refused_whole(tmp_path, change, message):
    released("alpha")
    document = export("alpha")
    _edit(document, change)
    path = write(tmp_path / "h.json", document)
    got = refused(path)
    assert message in got, got
    assert got.startswith(f"{path}: ")


@pytest.mark.django_db
def test_moves_cut_with_their_head_are_a_shorter_history(tmp_path):
    """As for versions: the file alone cannot tell; a checkpoint of the source can."""
    released("alpha")
    document = export("alpha")
    del document["label_moves"][5]
    document["label_chain_hash"] = document["label_moves"][4]["chain_hash"]
    out = imported(write(tmp_path / "h.json", document))
    assert out == "Imported 3 version(s) and 5 label move(s) into 'copy'.\n"
    assert "canary" not in BotConfig.objects.get(slug="copy").version_manager.labels


def _with_move(field: str, value: Any, index: int = 2) -> Any:
    def make(document: dict[str, Any]) -> dict[str, Any]:
        document["label_moves"][index][field] = value
        return document

    return make


def _without_move_field(field: str) -> Any:
    def make(document: dict[str, Any]) -> dict[str, Any]:
        del document["label_moves"][2][field]
        return document

    return make


def _with(field: str, value: Any) -> Any:
    return lambda document: {**document, field: value}


MALFORMED: list[tuple[str, Any, str]] = [
    ("moves an object", _with("label_moves", {}), "label_moves must be a list"),
    ("moves a string", _with("label_moves", "x"), "label_moves must be a list"),
    ("moves null", _with("label_moves", None), "label_moves must be a list"),
    ("head null", _with("label_chain_hash", None), "its label_chain_hash None is not a SHA"),
    ("head short", _with("label_chain_hash", "ab"), "its label_chain_hash 'ab' is not"),
    ("entry a list", _with("label_moves", [[]]), "label move entry 1 is not an object"),
    ("sequence a string", _with_move("sequence", "3"), "label move entry 3 has number '3'"),
    ("sequence true", _with_move("sequence", True, 0), "label move entry 1 has number True"),
    ("sequence 0", _with_move("sequence", 0, 0), "label move entry 1 has number 0"),
    ("latest", _with_move("label", "latest"), "label move 3: 'latest' always points"),
    ("label empty", _with_move("label", ""), "label move 3: '' is not a label name"),
    ("label unicode", _with_move("label", "stäging"), "is not a label name"),
    ("label too long", _with_move("label", "a" * 51), "at most 50 characters"),
    ("label a number", _with_move("label", 5), "5 is not a label name"),
    ("to 0", _with_move("to_version", 0), "to_version must be a version the file holds"),
    ("to 4", _with_move("to_version", 4), "(it has 3), not 4"),
    ("to true", _with_move("to_version", True), "to_version must be"),
    ("to 2.0", _with_move("to_version", 2.0), "to_version must be"),
    ("to a string", _with_move("to_version", "2"), "to_version must be"),
    ("from true", _with_move("from_version", True), "from_version must be empty or a version"),
    ("from 0", _with_move("from_version", 0), "from_version must be empty or a version"),
    ("from 9", _with_move("from_version", 9), "from_version must be empty or a version"),
    ("timestamp null", _with_move("timestamp", None), "timestamp must be a Unix time"),
    ("timestamp 1e20", _with_move("timestamp", 1e20), "timestamp must be a Unix time"),
    ("timestamp true", _with_move("timestamp", True), "timestamp must be a Unix time"),
    ("timestamp huge", _with_move("timestamp", 10**30), "a number of 31 digits"),
    ("reason null", _with_move("reason", None), "reason must be text"),
    ("reason too long", _with_move("reason", "r" * 10_001), "reason is 10001 char"),
    ("NUL in reason", _with_move("reason", "a\x00"), "reason contains a NUL"),
    ("surrogate in reason", _with_move("reason", "\ud800"), "lone surrogate"),
    ("author 300", _with_move("created_by", "a" * 300), "created_by is 300 char"),
    ("author a number", _with_move("created_by", 7), "created_by must be text"),
    ("chain hash empty", _with_move("chain_hash", ""), "chain_hash '' is not a SHA-256"),
    ("chain hash a number", _with_move("chain_hash", 1), "chain_hash 1 is not a SHA-256"),
    ("chain hash null", _with_move("chain_hash", None), "chain_hash None is not a SHA-256"),
    ("no chain hash", _without_move_field("chain_hash"), "has no 'chain_hash' field"),
    ("no sequence", _without_move_field("sequence"), "has no 'sequence' field"),
    ("no label", _without_move_field("label"), "has no 'label' field"),
    ("no timestamp", _without_move_field("timestamp"), "has no 'timestamp' field"),
    ("no from_version", _without_move_field("from_version"), "has no 'from_version' field"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "make", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_move_is_one_line_and_writes_nothing(tmp_path, case, make, message):
    released("alpha")
    got = refused(write(tmp_path / "bad.json", make(export("alpha"))))
    assert message in got, got


# Files without hashes --------------------------------------------------------------------------


def _memory() -> ConfigVersionManager:
    memory = ConfigVersionManager()
    for n in range(1, 4):
        memory.save({"n": n}, f"v{n}")
    memory.set_label("staging", 2, "try", created_by="ana")
    memory.set_label("production", 1)
    memory.set_label("staging", 3)
    return memory


@pytest.mark.django_db
def test_a_dump_with_moves_needs_unverified_and_keeps_them(tmp_path):
    memory = _memory()
    dump = write(tmp_path / "dump.json", memory.to_dict())
    assert "a plain to_dict() dump carries no hashes" in refused(dump)
    out = imported(dump, unverified=True)
    assert out == "Imported 3 version(s) and 3 label move(s) into 'copy'.\n"
    manager = BotConfig.objects.get(slug="copy").version_manager
    assert manager.labels == memory.labels == {"production": 1, "staging": 3}
    assert manager.label_history() == memory.label_history()  # the same chain hashes
    assert verify_history(BotConfig.objects.get(slug="copy")) is None
    old = write(tmp_path / "old.json", {"format": "config_versions.history/1", **memory.to_dict()})
    imported(old, slug="from-old", unverified=True)
    assert BotConfig.objects.get(slug="from-old").version_manager.labels == memory.labels


@pytest.mark.django_db
def test_unverified_does_not_skip_the_hashes_moves_have(tmp_path):
    data = _memory().to_dict()
    data["label_moves"][1]["reason"] = "edited"
    message = refused(write(tmp_path / "dump.json", data), unverified=True)
    assert "label move 2 (production): its recorded fields" in message


@pytest.mark.django_db
def test_unverified_moves_without_hashes_are_taken_as_they_stand_but_must_follow(tmp_path):
    data = _memory().to_dict()
    for move in data["label_moves"]:
        del move["chain_hash"]
        del move["sequence"]
        del move["timestamp"]  # now, as for versions without one
    data["label_moves"][0]["reason"] = "rewritten"
    imported(write(tmp_path / "dump.json", data), unverified=True)
    manager = BotConfig.objects.get(slug="copy").version_manager
    assert manager.label_history()[-1].reason == "rewritten"
    assert manager.labels == {"production": 1, "staging": 3}
    broken = copy.deepcopy(data)
    broken["label_moves"][2]["from_version"] = 1  # staging was at 2
    assert "label move 3 (staging): moves 'staging' from version 1, but its previous move" in (
        refused(write(tmp_path / "broken.json", broken), slug="other", unverified=True)
    )
    broken["label_moves"][2]["from_version"] = 2
    broken["label_moves"][2]["to_version"] = 7
    assert "to_version must be a version the file holds (it has 3), not 7" in (
        refused(write(tmp_path / "broken.json", broken), slug="other", unverified=True)
    )


# Random edits of a valid export ------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _mutate(document: dict[str, Any], draw: Any) -> str:
    """Change the moves of ``document`` (or its head) at random; the text to import."""
    kind = draw(st.sampled_from(["replace"] * 4 + ["delete", "moves"]))
    moves = document["label_moves"]
    paths = [p for p in _paths(document) if p[:1] in (("label_moves",), ("label_chain_hash",))]
    if kind == "replace":
        path = draw(st.sampled_from(paths))
        _at(document, path[:-1])[path[-1]] = draw(VALUES)
    elif kind == "delete":
        path = draw(st.sampled_from([p for p in paths if isinstance(_at(document, p[:-1]), dict)]))
        del _at(document, path[:-1])[path[-1]]
    else:
        i = draw(st.integers(0, len(moves) - 1))
        j = draw(st.integers(0, len(moves) - 1))
        operation = draw(st.sampled_from(["swap", "drop", "duplicate", "truncate", "reverse"]))
        if operation == "swap":
            moves[i], moves[j] = moves[j], moves[i]
        elif operation == "drop":
            del moves[i]
        elif operation == "duplicate":
            moves.insert(j, copy.deepcopy(moves[i]))
        elif operation == "truncate":
            del moves[i:]
        else:
            moves.reverse()
    return json.dumps(document, indent=2)


@pytest.mark.django_db
def test_random_edits_of_the_moves_import_faithfully_or_not_at_all(tmp_path):
    released("alpha")
    base = export("alpha")
    path = tmp_path / "mutated.json"
    outcomes = {"imported": 0, "refused": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        text = _mutate(copy.deepcopy(base), data.draw)
        path.write_text(text, encoding="utf-8")
        try:
            with transaction.atomic():
                try:
                    imported(path, slug="mutant")
                except CommandError as exc:
                    assert len(str(exc).splitlines()) == 1, str(exc)
                    assert not BotConfig.objects.filter(slug="mutant").exists()
                    outcomes["refused"] += 1
                else:
                    document = json.loads(text)
                    bot = BotConfig.objects.get(slug="mutant")
                    assert verify_history(bot) is None
                    assert moves_of("mutant") == document["label_moves"]
                    outcomes["imported"] += 1
                raise _Rollback
        except _Rollback:
            pass
        assert BotConfigLabelMove.objects.count() == 6

    run()
    assert outcomes["refused"] > 0


# Long records ------------------------------------------------------------------------------------


def _many_moves(bot: BotConfig, count: int) -> None:
    """``count`` moves of two labels over the config's versions, written in bulk with
    their chain hashes (no store, no signatures)."""
    versions = bot.current_version
    previous, rows = GENESIS, []
    at: dict[str, int | None] = {"staging": None, "production": None}
    for sequence in range(1, count + 1):
        label = ("staging", "production")[sequence % 2]
        target = 1 + (sequence * 7) % versions
        if target == at[label]:
            target = 1 + target % versions
        timestamp = 1_700_000_000 + sequence + 0.5
        move = LabelMove(label, at[label], target, timestamp, f"move {sequence}", "ana", sequence)
        previous = move_chain_hash(previous, move)
        rows.append(
            BotConfigLabelMove(
                bot_config=bot,
                created_at=dt.datetime.fromtimestamp(timestamp, tz=dt.UTC),
                chain_hash=previous,
                **{name: getattr(move, name) for name in MOVE_FIELDS},
            )
        )
        at[label] = target
    BotConfigLabelMove.objects.bulk_create(rows, batch_size=500)


@pytest.mark.django_db
def test_more_moves_than_a_page_verify_export_and_import(tmp_path):
    other = BotConfig.objects.create(name="Many", slug="many")
    for n in range(1, 6):
        other.version_manager.save({"n": n})
    other.refresh_from_db()
    _many_moves(other, 1203)
    report = check_history(other)
    assert report.ok, [str(b) for b in report.all_breaks[:3]]
    assert report.moves == 1203
    document = export("many")
    assert len(document["label_moves"]) == 1203
    assert document["label_chain_hash"] == document["label_moves"][-1]["chain_hash"]
    path = write(tmp_path / "many.json", document)
    edited = copy.deepcopy(document)
    edited["label_moves"][716]["reason"] = "quietly"
    assert "label move 717 (production): its recorded fields" in refused(
        write(tmp_path / "edited.json", edited)
    )
    assert "1203 label move(s)" in imported(path)
    assert export("copy")["label_moves"] == document["label_moves"]
