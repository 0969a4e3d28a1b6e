"""verify_config_history: every config, every break; checkpoints; signatures (issue 12).

Hostile cases tamper with rows in SQL, as someone with database access would: the
history's triggers are dropped for the edit (migration 0006's ``remove``) and put back
after (its ``install``), so these tests commit (``transaction=True``) on every database.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from config_versions.core.jsondata import GENESIS, chain_hash, content_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.integrity import check_history, verify_history
from config_versions.models import BotConfig, BotConfigVersion
from config_versions.purge import purge_history

migration = importlib.import_module(
    "config_versions.migrations.0006_history_exact_json_signatures_archive_purge"
)

KEY = "k" * 40
SIGNED = {"SIGNING_KEY": KEY}
TABLE = BotConfigVersion._meta.db_table
PARENT = BotConfig._meta.db_table

tampering = pytest.mark.django_db(transaction=True)


# Tampering, as someone with write access to the database --------------------------


@contextmanager
def triggers_off() -> Iterator[None]:
    with connection.schema_editor() as editor:
        migration.remove(None, editor)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            migration.install(None, editor)


def sql(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def set_columns(bot: BotConfig, version: int, **columns: Any) -> None:
    """UPDATE one version row's columns (config and metadata given as Python data)."""
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(name)} = %s" for name in columns)
    values = [
        json.dumps(value) if name in ("config", "metadata") else value
        for name, value in columns.items()
    ]
    with triggers_off():
        sql(
            f"UPDATE {qn(TABLE)} SET {assignments} WHERE {qn('bot_config_id')} = %s "
            f"AND {qn('version')} = %s",
            [*values, bot.pk, version],
        )


def delete_versions(bot: BotConfig, *, above: int = 0, only: int | None = None) -> None:
    qn = connection.ops.quote_name
    condition = f"{qn('version')} = %s" if only is not None else f"{qn('version')} > %s"
    with triggers_off():
        sql(
            f"DELETE FROM {qn(TABLE)} WHERE {qn('bot_config_id')} = %s AND {condition}",
            [bot.pk, only if only is not None else above],
        )


def set_current_version(bot: BotConfig, number: int) -> None:
    qn = connection.ops.quote_name
    sql(f"UPDATE {qn(PARENT)} SET {qn('current_version')} = %s WHERE id = %s", [number, bot.pk])


def rechain(bot: BotConfig, edit: Callable[[dict[str, Any]], dict[str, Any]], at: int) -> None:
    """Edit version ``at``'s config and recompute every content and chain hash from there,
    as someone who knows the (public) hashing scheme would. Signatures stay: without the
    key nobody can recompute them."""
    rows = list(BotConfigVersion.objects.filter(bot_config=bot).order_by("version"))
    previous = rows[at - 2].chain_hash if at > 1 else GENESIS
    qn = connection.ops.quote_name
    with triggers_off():
        for row in rows[at - 1 :]:
            config = edit(row.config) if row.version == at else row.config
            content = content_hash(config)
            link = chain_hash(
                previous,
                content,
                version=row.version,
                timestamp=row.timestamp,
                reason=row.reason,
                previous_version=row.previous_version,
                created_by=row.created_by,
                metadata=row.metadata or {},
            )
            sql(
                f"UPDATE {qn(TABLE)} SET {qn('config')} = %s, {qn('content_hash')} = %s, "
                f"{qn('chain_hash')} = %s WHERE id = %s",
                [json.dumps(config), content, link, row.pk],
            )
            previous = link


def sign_rows(bot: BotConfig, key: str = KEY, versions: range | None = None) -> None:
    """Give rows the signature the store writes with ``key``: sign_chain_hash(key, chain)."""
    qn = connection.ops.quote_name
    rows = BotConfigVersion.objects.filter(bot_config=bot).order_by("version")
    with triggers_off():
        for pk, number, link in rows.values_list("pk", "version", "chain_hash"):
            if versions is None or number in versions:
                sql(
                    f"UPDATE {qn(TABLE)} SET {qn('signature')} = %s WHERE id = %s",
                    [sign_chain_hash(key, link), pk],
                )


# Histories ------------------------------------------------------------------------


def history(slug: str, count: int, **fields: Any) -> BotConfig:
    bot = BotConfig.objects.create(name=slug.title(), slug=slug, **fields)
    manager = bot.version_manager
    manager.create({"n": 0}, reason="first", created_by="ana")
    for n in range(1, count):
        manager.update({"n": n, "tools": ["search"] * (n % 3)}, reason=f"change {n}")
    bot.refresh_from_db()
    return bot


def verify(*args: str, **options: Any) -> str:
    out = StringIO()
    call_command("verify_config_history", *args, stdout=out, **options)
    return out.getvalue()


def verify_failing(*args: str, **options: Any) -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("verify_config_history", *args, stdout=out, **options)
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    return out.getvalue(), message


def verify_json(*args: str, failing: bool = False, **options: Any) -> dict[str, Any]:
    if failing:
        out, _ = verify_failing(*args, format="json", **options)
    else:
        out = verify(*args, format="json", **options)
    document: dict[str, Any] = json.loads(out)
    return document


# Intact histories -------------------------------------------------------------------


@pytest.mark.django_db
def test_every_config_is_checked_archived_ones_too():
    history("alpha", 3)
    old = history("old", 2)
    old.archive(by="ana", reason="retired")
    out = verify()
    assert "alpha: 3 version(s) intact." in out
    assert "old (archived): 2 version(s) intact." in out
    assert "Verified 2 config(s): 2 intact." in out
    assert "Signatures not checked: CONFIG_VERSIONS['SIGNING_KEY'] is not set." in out
    document = verify_json()
    assert document["ok"] is True
    assert [(c["slug"], c["archived"], c["versions"]) for c in document["configs"]] == [
        ("alpha", False, 3),
        ("old", True, 2),
    ]
    assert document["totals"] == {
        "configs": 2,
        "ok": 2,
        "broken": 0,
        "breaks": 0,
        "versions": 5,
        "label_moves": 0,
        "proposal_events": 0,
        "tombstones": 0,
    }
    assert document["signatures_checked"] is False


@pytest.mark.django_db
def test_an_empty_config_and_one_slug():
    BotConfig.objects.create(name="Empty", slug="empty")
    history("alpha", 2)
    assert "empty: 0 version(s) intact." in verify("empty")
    assert "alpha" not in verify("empty")
    with pytest.raises(CommandError, match="No bot config with slug 'nope'"):
        verify("nope")


@pytest.mark.django_db
def test_verify_history_answers_the_first_break_or_none():
    bot = history("alpha", 2)
    assert verify_history(bot) is None
    report = check_history(bot)
    assert report.ok
    assert report.versions == 2
    assert report.chain_hash == bot.versions.get(version=2).chain_hash


# Every break --------------------------------------------------------------------------


@tampering
def test_two_broken_configs_are_both_reported_with_every_break():
    first = history("first", 6)
    second = history("second", 5)
    history("intact", 2)
    set_columns(first, 2, config={"tampered": True})
    set_columns(first, 5, reason="innocent")
    set_columns(second, 3, chain_hash="0" * 64)

    out, message = verify_failing()
    assert message == "History broken: 3 break(s) in 2 config(s): first, second."
    assert "first: 6 version(s), 2 break(s):" in out
    assert "  version 2: the config does not match its content hash" in out
    assert "  version 5: its recorded fields (or the chain hash before it) do not match" in out
    # One edit, one break: the versions after each edit still chain to what it recorded.
    assert "version 3:" not in out.split("second")[0]
    assert "second: 5 version(s), 1 break(s):" in out
    assert "intact: 2 version(s) intact." in out
    assert "Verified 3 config(s): 1 intact, 2 broken (3 break(s))." in out

    document = verify_json(failing=True)
    assert document["ok"] is False
    by_slug = {c["slug"]: c for c in document["configs"]}
    assert [b["version"] for b in by_slug["first"]["breaks"]] == [2, 5]
    assert by_slug["second"]["breaks"] == [
        {
            "version": 3,
            "problem": "its recorded fields (or the chain hash before it) do not match its "
            "chain hash",
        }
    ]
    assert by_slug["intact"]["ok"] is True
    assert document["totals"]["broken"] == 2
    assert document["totals"]["breaks"] == 3


@tampering
def test_a_missing_version_and_a_wrong_current_version():
    bot = history("gappy", 5)
    delete_versions(bot, only=3)
    out, _ = verify_failing()
    assert "  version 3: missing (found 4 next)" in out
    assert "version 4:" not in out  # the chain of the missing one is unknown, not broken
    set_current_version(bot, 7)
    out, _ = verify_failing()
    assert "  version 7: current_version is 7 but the history ends at 5" in out


@tampering
def test_several_missing_versions_and_edited_fields():
    bot = history("many", 8)
    delete_versions(bot, only=3)
    delete_versions(bot, only=4)
    set_columns(bot, 6, timestamp=1.0, created_by="mallory")
    out, _ = verify_failing("many")
    assert "  version 3: missing, up to version 4 (found 5 next)" in out
    assert "  version 6: its recorded fields" in out
    assert "version 7:" not in out


# The command line runs the system checks, which on Django 6 ask every database alias
# (the replica of tests/settings.py too) whether it supports JSONField.
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_command_line_exits_1(capsys):
    bot = history("cli", 3)
    set_columns(bot, 2, config={"x": 1})
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "verify_config_history"]).execute()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "version 2: the config does not match its content hash" in captured.out
    assert "History broken: 1 break(s) in 1 config(s): cli." in captured.err


# Tombstones ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_tombstones_are_listed_not_failures():
    gone = history("gone", 3)
    history("kept", 2)
    purge_history(gone, by="ana", reason="GDPR request\nticket 42")
    out = verify()
    assert "Purged: gone, 3 version(s), by ana at " in out
    assert "GDPR request ticket 42" in out
    assert "Verified 1 config(s): 1 intact; 1 purged." in out
    document = verify_json()
    assert document["ok"] is True
    [tombstone] = document["tombstones"]
    assert tombstone["slug"] == "gone"
    assert tombstone["versions"] == 3
    assert tombstone["purged_by"] == "ana"
    assert tombstone["reason"] == "GDPR request\nticket 42"
    assert tombstone["purged_at"]
    # The slug of a purged config is no error: its tombstone answers.
    assert "Purged: gone" in verify("gone")


# Checkpoints ----------------------------------------------------------------------------


@tampering
def test_a_checkpoint_catches_tail_truncation(tmp_path):
    bot = history("short", 6)
    history("other", 2)
    checkpoint = tmp_path / "cp.json"
    assert "Checkpoint written to" in verify(write_checkpoint=str(checkpoint))
    written = json.loads(checkpoint.read_text())
    assert written["format"] == "config_versions.checkpoint/1"
    assert {c["slug"]: c["version"] for c in written["configs"]} == {"short": 6, "other": 2}
    assert "signature" not in written  # no key
    assert "2 config(s) compared" in verify(against=str(checkpoint))

    delete_versions(bot, above=4)
    set_current_version(bot, 4)
    # The chain alone cannot tell: what is left is a perfect, shorter history.
    assert "short: 4 version(s) intact." in verify()
    out, message = verify_failing(against=str(checkpoint))
    assert (
        "  version 6: the checkpoint recorded 6 version(s), the history now ends at 4: "
        "versions were cut from its end" in out
    )
    assert "short" in message
    document = verify_json(against=str(checkpoint), failing=True)
    short = next(c for c in document["configs"] if c["slug"] == "short")
    assert short["checkpoint"]["matches"] is False


@tampering
def test_a_checkpoint_catches_a_rechained_history(tmp_path):
    bot = history("rewritten", 5)
    checkpoint = tmp_path / "cp.json"
    verify(write_checkpoint=str(checkpoint))
    rechain(bot, lambda config: {**config, "llm": "evil"}, at=2)
    assert "rewritten: 5 version(s) intact." in verify()  # hashes recomputed: no break
    out, _ = verify_failing(against=str(checkpoint))
    assert "  version 5: its chain hash differs from the checkpoint's" in out
    # A new checkpoint is not written over a broken history.
    fresh = tmp_path / "fresh.json"
    _, message = verify_failing(against=str(checkpoint), write_checkpoint=str(fresh))
    assert message.endswith("Checkpoint not written.")
    assert not fresh.exists()


@tampering
def test_configs_gone_since_a_checkpoint(tmp_path):
    purged = history("purged", 3)
    vanished = history("vanished", 2)
    cut_then_purged = history("cut-then-purged", 4)
    history("grows", 2)
    checkpoint = tmp_path / "cp.json"
    verify(write_checkpoint=str(checkpoint))
    BotConfig.objects.get(slug="grows").version_manager.update({"more": True})
    purge_history(purged, by="ana", reason="asked to")
    # Gone without a tombstone: deleted in SQL.
    qn = connection.ops.quote_name
    delete_versions(vanished)
    sql(f"DELETE FROM {qn(PARENT)} WHERE id = %s", [vanished.pk])
    # Cut to 2 versions, then purged: its tombstone counts fewer than the checkpoint.
    delete_versions(cut_then_purged, above=2)
    purge_history(BotConfig.objects.get(pk=cut_then_purged.pk), by="ana")

    out, message = verify_failing(against=str(checkpoint))
    assert f"  purged (id {purged.pk}): purged since the checkpoint: 3 version(s), by ana" in out
    assert (
        f"  vanished (id {vanished.pk}): gone: the checkpoint recorded 2 version(s), and no "
        "tombstone says it was purged" in out
    )
    assert "  cut-then-purged (id" in out
    assert "purged, but its tombstone (2 version(s)" in out
    assert "grows: 3 version(s) intact." in out  # grown since: fine
    assert (
        "Verified 1 config(s): 1 intact; 2 purged. 2 config(s) of the checkpoint gone "
        "without a tombstone that matches it." in out
    )
    assert message == "History broken: 2 break(s) in 2 config(s): cut-then-purged, vanished."
    document = verify_json(against=str(checkpoint), failing=True)
    gone = {g["slug"]: g for g in document["checkpoint"]["gone"]}
    assert gone["purged"]["purged"] is True
    assert gone["purged"]["problem"] is None
    assert gone["vanished"]["purged"] is False
    assert "no tombstone" in gone["vanished"]["problem"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read the checkpoint"),
        ("{not json", "is not a checkpoint: not valid JSON"),
        ("[]", "is not a checkpoint: no format"),
        ('{"format": "config_versions.checkpoint/1"}', "created_at or configs missing"),
        (
            '{"format": "config_versions.checkpoint/1", "created_at": "x", "configs": [1]}',
            "entry 1 of configs is not",
        ),
        (
            '{"format": "config_versions.checkpoint/1", "created_at": "x", "configs": '
            '[{"id": 1, "slug": "a", "version": 2, "chain_hash": "short"}]}',
            "entry 1 of configs is not",
        ),
        (
            '{"format": "config_versions.checkpoint/1", "created_at": "x", "configs": '
            '[{"id": 1, "slug": "a", "version": 0, "chain_hash": ""}, '
            '{"id": 1, "slug": "b", "version": 0, "chain_hash": ""}]}',
            "names config id 1 twice",
        ),
    ],
)
def test_a_bad_checkpoint_file_is_one_line_of_error(tmp_path, content, message):
    history("alpha", 1)
    path = tmp_path / "cp.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=message) as caught:
        verify(against=str(path))
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.django_db
def test_a_signed_checkpoint_refuses_edits(tmp_path):
    history("alpha", 3)
    path = tmp_path / "cp.json"
    with override_settings(CONFIG_VERSIONS=SIGNED):
        verify(write_checkpoint=str(path))
        document = json.loads(path.read_text())
        assert len(document["signature"]) == 64
        assert "(signature valid): 1 config(s) compared" in verify(against=str(path))
        assert verify_json(against=str(path))["checkpoint"]["signature"] == "valid"

        edited = {**document, "configs": [{**document["configs"][0], "version": 2}]}
        path.write_text(json.dumps(edited))
        with pytest.raises(CommandError, match="was edited: its signature does not match"):
            verify(against=str(path))
        unsigned = {k: v for k, v in document.items() if k != "signature"}
        path.write_text(json.dumps(unsigned))
        with pytest.raises(CommandError, match="carries no signature, but a SIGNING_KEY is set"):
            verify(against=str(path))
    # Without the key the signature cannot be checked, and the output says so.
    path.write_text(json.dumps(document))
    assert "(signature not checked)" in verify(against=str(path))


@pytest.mark.django_db
def test_a_checkpoint_that_cannot_be_written(tmp_path):
    history("alpha", 1)
    with pytest.raises(CommandError, match="Cannot write the checkpoint"):
        verify(write_checkpoint=str(tmp_path / "no" / "such" / "dir.json"))


# Signatures ---------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS=SIGNED)
def test_the_store_signs_and_verification_counts_signatures():
    """Waits for the store to sign (CONFIG_VERSIONS["SIGNING_KEY"] set when writing)."""
    bot = history("signed", 4)
    for link, signature in bot.versions.values_list("chain_hash", "signature"):
        assert signature == sign_chain_hash(KEY, link)
    assert "signed: 4 version(s) intact; 4 signed." in verify()
    report = verify_json()["configs"][0]
    assert report["signatures"] == {
        "checked": True,
        "signed": 4,
        "covered": 0,
        "unsigned": 0,
        "missing": 0,
        "bad": 0,
    }


@tampering
def test_signatures_catch_a_rechained_history():
    bot = history("victim", 5)
    with override_settings(CONFIG_VERSIONS=SIGNED):
        sign_rows(bot)
        assert "victim: 5 version(s) intact; 5 signed." in verify()
        rechain(bot, lambda config: {**config, "llm": "evil"}, at=3)
        out, _ = verify_failing()
    for number in (3, 4, 5):
        assert f"  version {number}: its signature does not match its chain hash" in out
    assert "version 2:" not in out
    assert "  signatures: 2 signed, 3 bad signature(s)" in out
    # Without the key the same history looks intact: the chain was recomputed.
    assert "victim: 5 version(s) intact; 5 carry a signature (not checked)." in verify()


@tampering
def test_versions_before_the_first_signed_one_are_covered_and_unsigned_after_are_breaks():
    bot = history("mixed", 7)
    with override_settings(CONFIG_VERSIONS=SIGNED):
        # Written before a key was set: not signed at all, which is no break.
        set_columns_everywhere(bot, signature=None)
        assert "mixed: 7 version(s) intact; not signed (written before a signing key" in verify()
        sign_rows(bot, versions=range(3, 5))  # 1-2 covered by 3; 5-7 unsigned after 4
        out, _ = verify_failing()
        assert (
            "  version 5: no signature on versions 5 to 7, though version 4 before them is "
            "signed: written without the signing key, or outside the app" in out
        )
        signatures = verify_json(failing=True)["configs"][0]["signatures"]
        assert signatures == {
            "checked": True,
            "signed": 2,
            "covered": 2,
            "unsigned": 0,
            "missing": 3,
            "bad": 0,
        }
        sign_rows(bot, versions=range(5, 8))
        set_columns(bot, 6, signature=None)
        out, _ = verify_failing()
        assert "  version 6: no signature, though version 5 before it is signed" in out
        set_columns(bot, 6, signature="f" * 64)
        out, _ = verify_failing()
        assert "  version 6: its signature does not match its chain hash" in out
    # Without the key: not checked, said so; signatures present are counted.
    out = verify()
    assert "mixed: 7 version(s) intact; 5 carry a signature (not checked)." in out
    assert "Signatures not checked" in out


@tampering
def test_a_signature_made_with_another_key_does_not_match():
    bot = history("other-key", 2)
    sign_rows(bot, key="o" * 40)
    with override_settings(CONFIG_VERSIONS=SIGNED):
        out, _ = verify_failing()
    assert "  version 1: its signature does not match" in out
    assert "  version 2: its signature does not match" in out


def set_columns_everywhere(bot: BotConfig, **columns: Any) -> None:
    for number in range(1, bot.current_version + 1):
        set_columns(bot, number, **columns)


# Large histories --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_history_longer_than_a_page(tmp_path):
    bot = history("long", 1)
    manager = bot.version_manager
    for n in range(1, 1201):
        manager.update({"n": n})
    bot.refresh_from_db()
    report = check_history(bot)
    assert report.ok
    assert report.versions == 1201
    path = tmp_path / "cp.json"
    verify(write_checkpoint=str(path))
    assert json.loads(path.read_text())["configs"][0]["version"] == 1201


@tampering
@pytest.mark.parametrize("edited", [[], "", 0, False])
def test_empty_metadata_edited_into_another_empty_value_is_a_break(edited):
    bot = history("meta", 3)
    set_columns(bot, 2, metadata=edited)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_config_history", format="json", stdout=out)
    [config] = json.loads(out.getvalue())["configs"]
    assert [problem["version"] for problem in config["breaks"]] == [2]
