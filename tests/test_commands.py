from __future__ import annotations

import importlib
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from config_versions import ConfigVersionManager
from config_versions.models import BotConfig, BotConfigVersion

triggers = importlib.import_module(
    "config_versions.migrations.0006_history_exact_json_signatures_archive_purge"
)


def _versions(slug):
    return BotConfig.objects.get(slug=slug).version_manager.to_dict()


@pytest.mark.django_db
def test_export_import_round_trip_of_1000_versions(bot, tmp_path):
    manager = bot.version_manager
    manager.create({"n": 0, "tools": []}, created_by="ana", metadata={"source": "wizard"})
    for n in range(1, 999):
        manager.update(
            {"n": n, "tools": [f"t{i}" for i in range(n % 7)]},
            reason=f"change {n}",
            created_by=["ana", "bo", None][n % 3],
        )
    manager.rollback(500, created_by="cy")
    bot.description = "Answers support tickets"
    bot.save()
    out = tmp_path / "history.json"

    call_command("export_config_history", "support-bot", output=str(out))
    document = json.loads(out.read_text())
    assert document["name"] == "Support bot"
    assert document["description"] == "Answers support tickets"
    assert document["current_version"] == 1000
    assert len(document["versions"]) == 1000

    call_command("import_config_history", str(out), slug="copy")
    copy = BotConfig.objects.get(slug="copy")
    assert copy.name == "Support bot"
    assert copy.description == "Answers support tickets"
    assert copy.current_version == 1000
    assert _versions("copy") == _versions("support-bot")
    # Same recorded fields, same hashes: the chain proves the copy is faithful.
    assert list(copy.versions.order_by("version").values_list("chain_hash", flat=True)) == list(
        bot.versions.order_by("version").values_list("chain_hash", flat=True)
    )


@pytest.mark.django_db
def test_import_plain_manager_dump(tmp_path):
    memory = ConfigVersionManager()
    memory.create({"a": 1}, created_by="configbot", metadata={"source": "wizard"})
    memory.update({"a": 2}, reason="bump")
    memory.rollback(1)
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(memory.to_dict()))

    with pytest.raises(CommandError, match=r"carries no hashes.*--unverified"):
        call_command("import_config_history", str(path), slug="from-memory")
    call_command("import_config_history", str(path), slug="from-memory", unverified=True)
    assert _versions("from-memory") == memory.to_dict()
    assert BotConfig.objects.get(slug="from-memory").name == "from-memory"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "not a config history"),
        ('{"versions": {}}', "not a config history"),
        ('{"versions": [{"version": 1, "config": {}}, {"version": 3, "config": {}}]}', "gaps"),
        (
            '{"versions": [{"version": 1, "config": {}}, {"version": 2, "config": []}]}',
            "JSON object",
        ),
        ('{"versions": [{"version": 1}]}', "no 'config' field"),
        ('{"schema": {"type": 5}, "versions": []}', "Invalid JSON Schema"),
    ],
)
def test_malformed_import_writes_nothing(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("import_config_history", str(path), slug="bad", unverified=True)
    assert not BotConfig.objects.filter(slug="bad").exists()
    assert BotConfigVersion.objects.count() == 0


@pytest.mark.django_db
def test_import_refuses_existing_slug_and_missing_file(bot, tmp_path):
    path = tmp_path / "h.json"
    path.write_text('{"versions": []}')
    with pytest.raises(CommandError, match="already exists"):
        call_command("import_config_history", str(path), slug="support-bot")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_config_history", str(tmp_path / "missing.json"), slug="new")


@pytest.mark.django_db
def test_export_unknown_slug():
    with pytest.raises(CommandError, match="No bot config with slug 'nope'"):
        call_command("export_config_history", "nope", output="-")


@pytest.mark.django_db
def test_verify_intact_history(bot_with_history, capsys):
    call_command("verify_config_history")
    assert "support-bot: 2 version(s) intact." in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("column", "value", "broken_at"),
    [("config", '{"tampered": true}', 2), ("reason", "innocent", 2), ("chain_hash", "0" * 64, 2)],
)
def test_verify_names_first_edited_version(bot, column, value, broken_at):
    manager = bot.version_manager
    for n in range(4):
        (manager.create if n == 0 else manager.update)({"n": n})
    table = BotConfigVersion._meta.db_table
    with connection.schema_editor() as editor:
        triggers.remove(None, editor)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE bot_config_id = %s AND version = 2",
                [value, bot.pk],
            )
    finally:
        with connection.schema_editor() as editor:
            triggers.install(None, editor)
    out = io.StringIO()
    with pytest.raises(
        CommandError, match=r"History broken: 1 break\(s\) in 1 config\(s\): support-bot"
    ):
        call_command("verify_config_history", "support-bot", stdout=out)
    assert f"  version {broken_at}: " in out.getvalue()
