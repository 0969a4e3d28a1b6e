"""verify_config_history covers label moves (issue 13): every break, signatures,
checkpoints; the database refuses to change or delete a move; purge removes them.

Hostile cases tamper with move rows in SQL, as someone with database access would:
migration 0007's triggers are dropped for the edit and put back after, so these tests
commit (``transaction=True``) on every database.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from config_versions.checkpoints import read_checkpoint
from config_versions.conf import settings as cv_settings
from config_versions.core.jsondata import GENESIS
from config_versions.core.labels import LabelMove, move_chain_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.integrity import MoveBreak, check_history, verify_history
from config_versions.models import BotConfig, BotConfigLabelMove, PurgedConfig
from config_versions.purge import purge_history
from tests.test_verify import (
    delete_versions,
    set_current_version,
    verify,
    verify_failing,
    verify_json,
)

moves_migration = importlib.import_module("config_versions.migrations.0007_label_moves")

KEY = "k" * 40
LABELS = {"staging": {}, "production": {"protected": True}, "canary": {}}
SIGNED = {"SIGNING_KEY": KEY, "LABELS": LABELS}
MOVES = BotConfigLabelMove._meta.db_table
CHAIN_MISMATCH = "its recorded fields (or the chain hash before it) do not match its chain hash"

tampering = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _labels(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS}


# Tampering with moves, as someone with write access to the database -------------------


@contextmanager
def move_triggers_off() -> Iterator[None]:
    with connection.schema_editor() as editor:
        moves_migration.remove(None, editor)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            moves_migration.install(None, editor)


def sql(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def set_move(bot: BotConfig, sequence: int, **columns: Any) -> None:
    """UPDATE one move row's columns."""
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(name)} = %s" for name in columns)
    with move_triggers_off():
        sql(
            f"UPDATE {qn(MOVES)} SET {assignments} WHERE {qn('bot_config_id')} = %s "
            f"AND {qn('sequence')} = %s",
            [*columns.values(), bot.pk, sequence],
        )


def delete_moves(bot: BotConfig, *, above: int = 0, only: int | None = None) -> None:
    qn = connection.ops.quote_name
    condition = f"{qn('sequence')} = %s" if only is not None else f"{qn('sequence')} > %s"
    with move_triggers_off():
        sql(
            f"DELETE FROM {qn(MOVES)} WHERE {qn('bot_config_id')} = %s AND {condition}",
            [bot.pk, only if only is not None else above],
        )


def swap_moves(bot: BotConfig, first: int, second: int) -> None:
    """Swap two moves' sequence numbers (reorder them), through a free number."""
    qn = connection.ops.quote_name
    where = f"WHERE {qn('bot_config_id')} = %s AND {qn('sequence')} = %s"
    with move_triggers_off():
        for old, new in ((first, 10_000), (second, first), (10_000, second)):
            sql(f"UPDATE {qn(MOVES)} SET {qn('sequence')} = %s {where}", [new, bot.pk, old])


def rechain_moves(bot: BotConfig, at: int, edit: Callable[[LabelMove], LabelMove]) -> None:
    """Edit move ``at`` and recompute every move's chain hash from there, as someone who
    knows the (public) hashing scheme would. Signatures stay: nobody can recompute them
    without the key."""
    rows = list(BotConfigLabelMove.objects.filter(bot_config=bot).order_by("sequence"))
    previous = rows[at - 2].chain_hash if at > 1 else GENESIS
    qn = connection.ops.quote_name
    with move_triggers_off():
        for row in rows[at - 1 :]:
            move = LabelMove(
                label=row.label,
                from_version=row.from_version,
                to_version=row.to_version,
                timestamp=row.timestamp,
                reason=row.reason,
                created_by=row.created_by,
                sequence=row.sequence,
            )
            if row.sequence == at:
                move = edit(move)
            link = move_chain_hash(previous, move)
            sql(
                f"UPDATE {qn(MOVES)} SET {qn('label')} = %s, {qn('from_version')} = %s, "
                f"{qn('to_version')} = %s, {qn('reason')} = %s, {qn('chain_hash')} = %s "
                "WHERE id = %s",
                [move.label, move.from_version, move.to_version, move.reason, link, row.pk],
            )
            previous = link


def sign_moves(bot: BotConfig, key: str = KEY, sequences: range | None = None) -> None:
    qn = connection.ops.quote_name
    rows = BotConfigLabelMove.objects.filter(bot_config=bot).order_by("sequence")
    with move_triggers_off():
        for pk, sequence, link in rows.values_list("pk", "sequence", "chain_hash"):
            signature = (
                sign_chain_hash(key, link) if sequences is None or sequence in sequences else None
            )
            sql(f"UPDATE {qn(MOVES)} SET {qn('signature')} = %s WHERE id = %s", [signature, pk])


# Histories with moves -------------------------------------------------------------------


def released(slug: str, versions: int = 3) -> BotConfig:
    """``versions`` versions and six moves:

    1 staging None→1, 2 production None→1, 3 staging 1→2, 4 staging 2→3,
    5 production 1→3 ("ship"), 6 canary None→2.
    """
    bot = BotConfig.objects.create(name=slug.title(), slug=slug)
    manager = bot.version_manager
    for n in range(1, versions + 1):
        manager.save({"n": n}, f"v{n}", created_by="ana")
    for name, version, reason in (
        ("staging", 1, "try"),
        ("production", 1, "first release"),
        ("staging", 2, ""),
        ("staging", 3, "again"),
        ("production", 3, "ship"),
        ("canary", 2, "canary"),
    ):
        manager.set_label(name, version, reason, created_by="bo")
    bot.refresh_from_db()
    return bot


def move_breaks(slug: str) -> list[tuple[int, str | None, str]]:
    bot = BotConfig.objects.get(slug=slug)
    report = check_history(bot, signing_key=cv_settings.SIGNING_KEY)
    return [(b.sequence, b.label, b.problem) for b in report.move_breaks]


# Intact -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_intact_moves_are_counted_in_text_and_json():
    bot = released("alpha")
    BotConfig.objects.create(name="Plain", slug="plain").version_manager.save({"a": 1})
    out = verify()
    assert "alpha: 3 version(s) intact; 6 label move(s) intact." in out
    assert "plain: 1 version(s) intact." in out  # no moves: as before
    document = verify_json()
    alpha = document["configs"][0]
    last = BotConfigLabelMove.objects.filter(bot_config=bot).order_by("-sequence").first()
    assert alpha["label_moves"] == {
        "moves": 6,
        "chain_hash": last.chain_hash,
        "breaks": [],
        "signatures": {
            "checked": False,
            "signed": 0,
            "covered": 0,
            "unsigned": 0,
            "missing": 0,
            "bad": 0,
        },
    }
    assert document["configs"][1]["label_moves"]["moves"] == 0
    assert document["configs"][1]["label_moves"]["chain_hash"] == ""
    assert document["totals"]["label_moves"] == 6
    assert verify_history(bot) is None
    report = check_history(bot)
    assert (report.ok, report.moves, report.move_chain_hash) == (True, 6, last.chain_hash)


# Every break ---------------------------------------------------------------------------------


@tampering
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "innocent"),
        ("created_by", "mallory"),
        ("created_by", None),
        ("timestamp", 1.0),
        ("label", "canary"),
        ("to_version", 2),
        ("from_version", None),
        ("chain_hash", "0" * 64),
    ],
)
def test_an_edited_move_is_one_break_naming_config_sequence_and_label(column, value):
    released("alpha")
    released("intact")
    set_move(BotConfig.objects.get(slug="alpha"), 4, **{column: value})
    out, message = verify_failing()
    label = value if column == "label" else "staging"
    assert message == "History broken: 1 break(s) in 1 config(s): alpha."
    assert "alpha: 3 version(s), 6 label move(s), 1 break(s):" in out
    assert f"  label move 4 ({label}): {CHAIN_MISMATCH}" in out
    assert "intact: 3 version(s) intact; 6 label move(s) intact." in out
    document = verify_json(failing=True)
    alpha = document["configs"][0]
    assert alpha["ok"] is False
    assert alpha["breaks"] == []  # the versions are intact
    assert alpha["label_moves"]["breaks"] == [
        {"sequence": 4, "label": label, "problem": CHAIN_MISMATCH}
    ]
    assert document["totals"]["breaks"] == 1
    assert document["totals"]["broken"] == 1
    found = verify_history(BotConfig.objects.get(slug="alpha"))
    assert isinstance(found, MoveBreak)
    assert str(found) == f"alpha: label move 4 ({label}): {CHAIN_MISMATCH}"


@tampering
def test_independent_edits_each_show():
    bot = released("alpha")
    set_move(bot, 2, reason="quiet")
    set_move(bot, 5, created_by="mallory")
    set_move(bot, 6, to_version=9)
    assert move_breaks("alpha") == [
        (2, "production", CHAIN_MISMATCH),
        (5, "production", CHAIN_MISMATCH),
        (6, "canary", CHAIN_MISMATCH),
        (
            6,
            "canary",
            "points 'canary' at version 9, which the history does not hold (it has 3 version(s))",
        ),
    ]
    _, message = verify_failing()
    assert message == "History broken: 4 break(s) in 1 config(s): alpha."


@tampering
def test_a_missing_move_is_one_break():
    bot = released("alpha")
    delete_moves(bot, only=3)
    assert move_breaks("alpha") == [(3, None, "missing (found 4 next)")]
    out, _ = verify_failing()
    assert "  label move 3: missing (found 4 next)" in out
    delete_moves(bot, only=4)
    assert move_breaks("alpha") == [(3, None, "missing, up to label move 4 (found 5 next)")]


@tampering
def test_the_first_move_missing():
    bot = released("alpha")
    delete_moves(bot, only=1)
    assert move_breaks("alpha") == [(1, None, "missing (found 2 next)")]


@tampering
def test_reordered_moves_are_reported():
    bot = released("alpha")
    swap_moves(bot, 2, 3)
    # Each swapped move no longer hashes with its new number, and the move after them
    # was chained to the second one's hash, not the first one's.
    assert move_breaks("alpha") == [
        (2, "staging", CHAIN_MISMATCH),
        (3, "production", CHAIN_MISMATCH),
        (4, "staging", CHAIN_MISMATCH),
    ]
    _, message = verify_failing()
    assert message.startswith("History broken:")


@tampering
def test_a_rechained_move_is_caught_by_where_its_label_was():
    bot = released("alpha")
    # Production "first released" at 2 instead of 1, every hash recomputed: the chain
    # holds, but production's next move still starts from 1.
    rechain_moves(bot, 2, lambda move: LabelMove(**{**vars(move), "to_version": 2}))
    assert move_breaks("alpha") == [
        (5, "production", "moves 'production' from version 1, but its previous move left it at 2")
    ]
    out, _ = verify_failing()
    assert "  label move 5 (production): moves 'production' from version 1" in out


@tampering
def test_a_rechained_first_move_that_starts_somewhere():
    bot = released("alpha")
    rechain_moves(bot, 6, lambda move: LabelMove(**{**vars(move), "from_version": 1}))
    assert move_breaks("alpha") == [
        (6, "canary", "moves 'canary' from version 1, but it was not set")
    ]


@tampering
@pytest.mark.parametrize("target", [0, 4])
def test_a_rechained_move_to_a_version_not_held(target):
    bot = released("alpha")
    rechain_moves(bot, 6, lambda move: LabelMove(**{**vars(move), "to_version": target}))
    assert move_breaks("alpha") == [
        (
            6,
            "canary",
            f"points 'canary' at version {target}, which the history does not hold (it has "
            "3 version(s))",
        )
    ]


@tampering
def test_moves_to_versions_cut_from_the_end():
    bot = released("alpha")
    delete_versions(bot, above=2)
    set_current_version(bot, 2)
    bot.refresh_from_db()
    report = check_history(bot)
    assert report.breaks == []  # a perfect, shorter history of versions...
    assert [(b.sequence, b.label) for b in report.move_breaks] == [
        (4, "staging"),  # ...but these moves point at version 3
        (5, "production"),
    ]


# Signatures ---------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS=SIGNED)
def test_the_store_signs_moves_and_verification_counts_them():
    bot = released("signed")
    for link, signature in BotConfigLabelMove.objects.values_list("chain_hash", "signature"):
        assert signature == sign_chain_hash(KEY, link)
    assert "signed: 3 version(s) intact; 3 signed; 6 label move(s) intact, 6 signed." in verify()
    signatures = verify_json()["configs"][0]["label_moves"]["signatures"]
    assert signatures == {
        "checked": True,
        "signed": 6,
        "covered": 0,
        "unsigned": 0,
        "missing": 0,
        "bad": 0,
    }
    assert verify_history(bot) is None


@tampering
def test_signatures_catch_rechained_moves():
    with override_settings(CONFIG_VERSIONS=SIGNED):
        bot = released("victim")
        rechain_moves(bot, 4, lambda move: LabelMove(**{**vars(move), "reason": "nothing"}))
        out, _ = verify_failing()
        for sequence in (4, 5, 6):
            assert f"label move {sequence} " in out
            assert "its signature does not match its chain hash" in out
        assert "  label move signatures: 3 signed, 3 bad signature(s)" in out
        breaks = move_breaks("victim")
    assert [b[0] for b in breaks] == [4, 5, 6]
    # Without the key the chain looks intact: it was recomputed.
    assert "victim: 3 version(s) intact; 3 carry a signature (not checked); 6 label " in verify()


@tampering
def test_unsigned_moves_before_a_key_are_fine_after_a_signed_one_are_breaks():
    bot = released("mixed")
    with override_settings(CONFIG_VERSIONS=SIGNED):
        assert "6 label move(s) intact, not signed (written before a signing key" in verify()
        sign_moves(bot, sequences=range(3, 5))  # 1-2 covered by 3; 5-6 unsigned after 4
        out, _ = verify_failing()
        assert (
            "  label move 5 (production): no signature on label moves 5 to 6, though label "
            "move 4 before them is signed: written without the signing key, or outside "
            "the app" in out
        )
        report = verify_json(failing=True)["configs"][0]["label_moves"]
        assert report["signatures"] == {
            "checked": True,
            "signed": 2,
            "covered": 2,
            "unsigned": 0,
            "missing": 2,
            "bad": 0,
        }
        sign_moves(bot, sequences=range(1, 6))
        out, _ = verify_failing()
        assert (
            "  label move 6 (canary): no signature, though label move 5 before it is signed" in out
        )
        sign_moves(bot, key="o" * 40)
        out, _ = verify_failing()
        assert out.count("its signature does not match its chain hash") == 6


# Checkpoints ---------------------------------------------------------------------------------


@tampering
def test_a_checkpoint_records_moves_and_catches_moves_cut_from_the_end(tmp_path):
    bot = released("short")
    path = tmp_path / "cp.json"
    verify(write_checkpoint=str(path))
    [entry] = json.loads(path.read_text())["configs"]
    last = BotConfigLabelMove.objects.get(bot_config=bot, sequence=6)
    assert (entry["label_moves"], entry["label_chain_hash"]) == (6, last.chain_hash)
    assert "1 config(s) compared" in verify(against=str(path))

    delete_moves(bot, above=4)
    assert "short: 3 version(s) intact; 4 label move(s) intact." in verify()  # chain alone
    out, message = verify_failing(against=str(path))
    assert (
        "  label move 6: the checkpoint recorded 6 label move(s), the moves now end at 4: "
        "moves were cut from their end" in out
    )
    assert message == "History broken: 1 break(s) in 1 config(s): short."
    short = verify_json(against=str(path), failing=True)["configs"][0]
    assert short["checkpoint"]["matches"] is False
    assert short["checkpoint"]["label_moves"] == 6


@tampering
def test_a_checkpoint_catches_rechained_moves(tmp_path):
    bot = released("rewritten")
    path = tmp_path / "cp.json"
    verify(write_checkpoint=str(path))
    rechain_moves(bot, 3, lambda move: LabelMove(**{**vars(move), "reason": "other"}))
    assert "rewritten: 3 version(s) intact; 6 label move(s) intact." in verify()
    out, _ = verify_failing(against=str(path))
    assert (
        "  label move 6 (canary): its chain hash differs from the checkpoint's: the label "
        "moves up to here were rewritten and re-chained" in out
    )


@pytest.mark.django_db
def test_moves_made_since_a_checkpoint_are_fine(tmp_path):
    bot = released("grows")
    path = tmp_path / "cp.json"
    verify(write_checkpoint=str(path))
    bot.version_manager.set_label("canary", 3)
    assert "grows: 3 version(s) intact; 7 label move(s) intact." in verify(against=str(path))


@pytest.mark.django_db
def test_a_checkpoint_written_before_label_moves_is_still_read(tmp_path):
    bot = released("old")
    head = bot.versions.get(version=3).chain_hash
    path = tmp_path / "old.json"
    document = {
        "format": "config_versions.checkpoint/1",
        "created_at": "2024-01-01T00:00:00+00:00",
        "configs": [{"id": bot.pk, "slug": "old", "version": 3, "chain_hash": head}],
    }
    path.write_text(json.dumps(document))
    assert read_checkpoint(str(path), key=None).marks[bot.pk].moves is None
    out = verify(against=str(path))
    assert "old: 3 version(s) intact; 6 label move(s) intact." in out
    assert "1 config(s) compared, 0 gone since." in out
    checkpoint = verify_json(against=str(path))["configs"][0]["checkpoint"]
    assert checkpoint["matches"] is True
    assert checkpoint["label_moves"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [
        {"label_moves": 2},
        {"label_chain_hash": ""},
        {"label_moves": -1, "label_chain_hash": ""},
        {"label_moves": True, "label_chain_hash": "a" * 64},
        {"label_moves": 2, "label_chain_hash": "short"},
        {"label_moves": 0, "label_chain_hash": "a" * 64},
        {"label_moves": 2, "label_chain_hash": None},
    ],
)
def test_a_checkpoint_with_bad_label_keys_is_refused(tmp_path, extra):
    released("alpha")
    path = tmp_path / "cp.json"
    entry = {"id": 1, "slug": "alpha", "version": 0, "chain_hash": "", **extra}
    path.write_text(
        json.dumps(
            {"format": "config_versions.checkpoint/1", "created_at": "x", "configs": [entry]}
        )
    )
    with pytest.raises(CommandError, match="entry 1 of configs is not"):
        verify(against=str(path))


@pytest.mark.django_db
def test_a_signed_checkpoint_covers_the_moves(tmp_path):
    path = tmp_path / "cp.json"
    with override_settings(CONFIG_VERSIONS=SIGNED):
        released("alpha")
        verify(write_checkpoint=str(path))
        document = json.loads(path.read_text())
        document["configs"][0]["label_moves"] = 5
        path.write_text(json.dumps(document))
        with pytest.raises(CommandError, match="was edited: its signature does not match"):
            verify(against=str(path))


# The database keeps moves as written; purge removes them -------------------------------------


@tampering
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("label", "'canary'"),
        ("sequence", "99"),
        ("from_version", "NULL"),
        ("to_version", "1"),
        ("timestamp", "1.0"),
        ("reason", "'quiet'"),
        ("created_by", "NULL"),
        ("chain_hash", "'x'"),
        ("signature", "'x'"),
        ("bot_config_id", "bot_config_id + 0 + 1000"),
    ],
)
def test_the_database_refuses_any_update_of_a_move(column, value):
    bot = released("alpha")
    before = list(BotConfigLabelMove.objects.values_list().order_by("pk"))
    qn = connection.ops.quote_name
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(MOVES)} SET {qn(column)} = {value} WHERE {qn('bot_config_id')} = %s",
            [bot.pk],
        )
    assert list(BotConfigLabelMove.objects.values_list().order_by("pk")) == before
    assert verify_history(bot) is None


@tampering
def test_the_database_refuses_to_delete_a_move():
    released("alpha")
    qn = connection.ops.quote_name
    for condition in (f"{qn('sequence')} = 6", f"{qn('sequence')} > 0", "1 = 1"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {qn(MOVES)} WHERE {condition}")
    assert BotConfigLabelMove.objects.count() == 6
    with pytest.raises(DatabaseError), transaction.atomic():
        BotConfigLabelMove.objects.filter(sequence=6)._raw_delete(connection.alias)
    assert BotConfigLabelMove.objects.count() == 6


@tampering
def test_deleting_the_mover_only_clears_the_user():
    user = get_user_model().objects.create_user("mover")
    bot = BotConfig.objects.create(name="A", slug="alpha")
    from config_versions.managers import database_manager

    manager = database_manager(bot, user=user)
    manager.save({"a": 1})
    manager.set_label("staging", 1)
    user.delete()
    move = BotConfigLabelMove.objects.get()
    assert (move.created_by_user_id, move.to_version) == (None, 1)
    assert verify_history(bot) is None


@tampering
def test_purge_leaves_a_tombstone_and_removes_the_moves():
    bot = released("gone")
    kept = released("kept")
    tombstone = purge_history(bot, by="ana", reason="asked to")
    assert not BotConfigLabelMove.objects.filter(bot_config_id=bot.pk).exists()
    assert BotConfigLabelMove.objects.filter(bot_config=kept).count() == 6
    assert PurgedConfig.objects.get().pk == tombstone.pk
    assert (tombstone.slug, tombstone.versions) == ("gone", 3)
    out = verify()
    assert "Purged: gone, 3 version(s), by ana" in out
    assert "kept: 3 version(s) intact; 6 label move(s) intact." in out
