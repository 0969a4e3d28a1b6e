"""Exports are evidence; imports check them (issue 12, item 6).

An export carries every version's content and chain hash and the head's; the import
recomputes them all and refuses the whole file, in one line naming the first problem,
when anything was edited, reordered or cut, or is not what a database can hold. The
property test mutates a valid export at random: every outcome is either a faithful,
verifying import or that one-line refusal with nothing written.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import tracemalloc
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

from config_versions import ConfigVersionManager
from config_versions.core.jsondata import GENESIS, canonical_json, chain_hash, content_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.core.version import VERSION_FIELDS
from config_versions.integrity import verify_history
from config_versions.models import BotConfig, BotConfigVersion
from tests.test_verify import set_columns

KEY = "x" * 40
_ENGINE = django_settings.DATABASES["default"]["ENGINE"]
EXAMPLES = int(os.environ.get("CV_MUTATION_EXAMPLES", 200 if _ENGINE.endswith("sqlite3") else 100))


# Histories, exports, imports --------------------------------------------------------


def small_history(slug: str = "support-bot") -> BotConfig:
    bot = BotConfig.objects.create(
        name="Support bot",
        slug=slug,
        description="Answers tickets",
        schema={"type": "object"},
    )
    manager = bot.version_manager
    manager.create(
        {"model": "gpt-4", "temperature": 0.5, "big": 1e16, "zero": -0.0, "tools": ["a"]},
        reason="Initial",
        created_by="ana",
        metadata={"source": "wizard"},
    )
    manager.update({"model": "claude", "grüße": "✓ ok\u2028line"}, reason="Grüße\nzwei")
    manager.update({"model": "claude", "tools": []}, reason="", created_by=None)
    manager.rollback(1, reason="back", created_by="bo")
    bot.refresh_from_db()
    return bot


def fast_history(slug: str, count: int, padding: int = 0) -> BotConfig:
    """``count`` versions written in bulk, with correct hashes (no store, no signatures)."""
    bot = BotConfig.objects.create(name=slug, slug=slug)
    previous = GENESIS
    rows = []
    for number in range(1, count + 1):
        config = {"n": number, "prompt": "p" * padding, "tools": ["t"] * (number % 4)}
        timestamp = 1_700_000_000 + number + 0.25
        fields: dict[str, Any] = {
            "version": number,
            "timestamp": timestamp,
            "reason": f"change {number}",
            "previous_version": number - 1 or None,
            "created_by": ["ana", "bo", None][number % 3],
            "metadata": {},
        }
        content = content_hash(config)
        previous = chain_hash(previous, content, **fields)
        rows.append(
            BotConfigVersion(
                bot_config=bot,
                config=config,
                created_at=dt.datetime.fromtimestamp(timestamp, tz=dt.UTC),
                content_hash=content,
                chain_hash=previous,
                **fields,
            )
        )
    BotConfigVersion.objects.bulk_create(rows, batch_size=500)
    bot.refresh_from_db()
    assert bot.current_version == count
    return bot


def export(slug: str) -> dict[str, Any]:
    out = StringIO()
    call_command("export_config_history", slug, stdout=out)
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def write(path: Path, document: Any) -> Path:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def recorded(slug: str) -> list[dict[str, Any]]:
    return BotConfig.objects.get(slug=slug).version_manager.to_dict()["versions"]


def refused(path: Path, slug: str = "copy", **options: Any) -> str:
    """Import ``path``; assert a one-line CommandError and nothing written; the message."""
    before = BotConfigVersion.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("import_config_history", str(path), slug=slug, stdout=StringIO(), **options)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert not BotConfig.objects.filter(slug=slug).exists()
    assert BotConfigVersion.objects.count() == before
    return message


# Exports -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_export_carries_every_hash_and_the_head():
    bot = small_history()
    document = export("support-bot")
    assert document["format"] == "config_versions.history/4"
    assert (document["label_moves"], document["label_chain_hash"]) == ([], "")
    assert (document["proposal_events"], document["proposal_chain_hash"]) == ([], "")
    assert (document["slug"], document["name"], document["description"]) == (
        "support-bot",
        "Support bot",
        "Answers tickets",
    )
    assert document["schema"] == {"type": "object"}
    rows = list(bot.versions.order_by("version"))
    assert document["current_version"] == 4
    assert document["chain_hash"] == rows[-1].chain_hash
    for entry, row in zip(document["versions"], rows, strict=True):
        assert entry["content_hash"] == row.content_hash == content_hash(entry["config"])
        assert entry["chain_hash"] == row.chain_hash
        assert "signature" not in entry  # written without a key
    assert [{k: v[k] for k in VERSION_FIELDS} for v in document["versions"]] == recorded(
        "support-bot"
    )
    # Floats keep their type and sign through the file.
    first = document["versions"][0]["config"]
    assert isinstance(first["big"], float)
    assert str(first["zero"]) == "-0.0"


@pytest.mark.django_db
def test_an_export_is_the_text_json_dump_would_write(tmp_path):
    small_history()
    out = StringIO()
    call_command("export_config_history", "support-bot", stdout=out)
    text = out.getvalue()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    # And to a file, with a note on stderr.
    path = tmp_path / "h.json"
    err = StringIO()
    call_command("export_config_history", "support-bot", output=str(path), stderr=err)
    assert path.read_text() == text
    assert "Exported 4 version(s) of 'support-bot'" in err.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["h.json"]  # no temporary left


@pytest.mark.django_db
def test_an_empty_history_and_an_archived_config(tmp_path):
    BotConfig.objects.create(name="Empty", slug="empty")
    document = export("empty")
    assert (document["current_version"], document["chain_hash"], document["versions"]) == (
        0,
        "",
        [],
    )
    call_command("import_config_history", str(write(tmp_path / "e.json", document)), slug="e2")
    assert BotConfig.objects.get(slug="e2").current_version == 0
    archived = small_history("old")
    archived.archive(by="ana")
    assert export("old")["current_version"] == 4


@pytest.mark.django_db
def test_export_errors(tmp_path):
    with pytest.raises(CommandError, match="No bot config with slug 'nope'"):
        call_command("export_config_history", "nope", stdout=StringIO())
    small_history()
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_config_history", "support-bot", output=str(tmp_path / "no" / "f"))


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS={"SIGNING_KEY": KEY})
def test_an_export_carries_signatures_the_import_does_not_copy(tmp_path):
    """Waits for the store to sign versions (SIGNING_KEY set when they are written)."""
    small_history()
    document = export("support-bot")
    for entry in document["versions"]:
        assert entry["signature"] == sign_chain_hash(KEY, entry["chain_hash"])
    path = write(tmp_path / "h.json", document)
    other = "y" * 40
    with override_settings(CONFIG_VERSIONS={"SIGNING_KEY": other}):
        call_command("import_config_history", str(path), slug="copy", stdout=StringIO())
        copy_bot = BotConfig.objects.get(slug="copy")
        assert verify_history(copy_bot) is None
    for link, signature in copy_bot.versions.values_list("chain_hash", "signature"):
        assert signature == sign_chain_hash(other, link)  # this site's key, not the file's


def _peak_while_exporting(slug: str, path: Path) -> int:
    tracemalloc.start()
    try:
        call_command("export_config_history", slug, output=str(path), stderr=StringIO())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.django_db
def test_an_export_of_10000_versions_streams_in_constant_memory(tmp_path):
    fast_history("short", 1000, padding=1000)
    fast_history("long", 10_000, padding=1000)
    short_peak = _peak_while_exporting("short", tmp_path / "short.json")
    long_path = tmp_path / "long.json"
    long_peak = _peak_while_exporting("long", long_path)
    size = long_path.stat().st_size
    assert size > 10_000_000
    # Ten times the versions, the same memory: a page of rows, never the history.
    assert long_peak < short_peak * 1.5, (short_peak, long_peak)
    assert long_peak < size / 4
    document = json.loads(long_path.read_text())
    assert len(document["versions"]) == 10_000
    assert document["chain_hash"] == document["versions"][-1]["chain_hash"]


@pytest.mark.django_db(transaction=True)
def test_an_export_of_a_tampered_history_warns_and_is_refused(tmp_path):
    bot = small_history()
    set_columns(bot, 2, reason="innocent")
    err = StringIO()
    path = tmp_path / "h.json"
    call_command("export_config_history", "support-bot", output=str(path), stderr=err)
    assert "Warning: the history does not verify (support-bot: version 2:" in err.getvalue()
    message = refused(path)
    assert "version 2: its recorded fields (or the chain hash before it) do not match" in message


# Round trips -------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_import_is_the_exported_history_and_verifies(tmp_path):
    bot = small_history()
    path = write(tmp_path / "h.json", export("support-bot"))
    out = StringIO()
    call_command("import_config_history", str(path), slug="copy", stdout=out)
    assert out.getvalue() == "Imported 4 version(s) into 'copy'.\n"
    copy_bot = BotConfig.objects.get(slug="copy")
    assert (copy_bot.name, copy_bot.description, copy_bot.schema) == (
        "Support bot",
        "Answers tickets",
        {"type": "object"},
    )
    assert recorded("copy") == recorded("support-bot")
    assert list(copy_bot.versions.order_by("version").values_list("chain_hash", flat=True)) == (
        list(bot.versions.order_by("version").values_list("chain_hash", flat=True))
    )
    assert verify_history(copy_bot) is None
    assert export("copy")["versions"] == export("support-bot")["versions"]


# Edited, reordered, cut: refused -------------------------------------------------------


def _edit(document: dict[str, Any], change: str) -> None:
    versions = document["versions"]
    if change == "config":
        versions[2]["config"]["model"] = "evil"
    elif change == "config and its content hash":
        versions[2]["config"]["model"] = "evil"
        versions[2]["content_hash"] = content_hash(versions[2]["config"])
    elif change == "reason":
        versions[2]["reason"] = "nothing to see"
    elif change == "author":
        versions[2]["created_by"] = "mallory"
    elif change == "timestamp":
        versions[2]["timestamp"] += 1
    elif change == "metadata":
        versions[3]["metadata"]["rollback_to"] = 2
    elif change == "previous_version":
        versions[2]["previous_version"] = 1
    elif change == "reordered":
        versions[1], versions[2] = versions[2], versions[1]
    elif change == "reordered and renumbered":
        versions[1], versions[2] = versions[2], versions[1]
        versions[1]["version"], versions[2]["version"] = 2, 3
    elif change == "middle cut":
        del versions[1]
        document["current_version"] = 3
    elif change == "tail cut":
        del versions[3]
    elif change == "tail cut, current_version lowered":
        del versions[3]
        document["current_version"] = 3
    elif change == "head edited":
        document["chain_hash"] = "0" * 64
    elif change == "chain hash edited":
        versions[1]["chain_hash"] = "0" * 64


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("config", "version 3: the config does not match its content hash"),
        ("config and its content hash", "version 3: its recorded fields"),
        ("reason", "version 3: its recorded fields (or the chain hash before it)"),
        ("author", "version 3: its recorded fields"),
        ("timestamp", "version 3: its recorded fields"),
        ("metadata", "version 4: its recorded fields"),
        ("previous_version", "version 3: its recorded fields"),
        ("reordered", "version entry 2 has number 3; versions must be numbered"),
        ("reordered and renumbered", "version 2: previous_version must be"),
        ("middle cut", "version entry 2 has number 3"),
        ("tail cut", "the file holds 3 version(s) but its current_version is 4: versions were"),
        ("tail cut, current_version lowered", "the chain does not end at the file's head"),
        ("head edited", "the chain does not end at the file's head chain_hash"),
        ("chain hash edited", "version 2: its recorded fields"),
    ],
)
def test_an_edited_export_is_refused_whole(tmp_path, change, message):
    small_history()
    document = export("support-bot")
    _edit(document, change)
    got = refused(write(tmp_path / "h.json", document))
    assert message in got
    assert got.startswith(str(tmp_path / "h.json") + ": ")
    assert got.endswith("; nothing imported.")


@pytest.mark.django_db
def test_an_export_of_1000_versions_cut_to_900_or_reordered_is_refused(tmp_path):
    fast_history("big", 1000)
    document = export("big")
    path = tmp_path / "h.json"
    cut = {**document, "versions": document["versions"][:900]}
    assert "holds 900 version(s) but its current_version is 1000" in refused(write(path, cut))
    cut["current_version"] = 900
    assert "does not end at the file's head chain_hash" in refused(write(path, cut))
    reordered = {**document, "versions": document["versions"][::-1]}
    assert "version entry 1 has number 1000" in refused(write(path, reordered))
    edited = copy.deepcopy(document)
    edited["versions"][716]["reason"] = "quietly"
    assert "version 717: its recorded fields" in refused(write(path, edited))
    call_command("import_config_history", str(write(path, document)), slug="copy")
    assert BotConfig.objects.get(slug="copy").current_version == 1000


# Malformed files: one line, nothing written -----------------------------------------------


def _valid() -> dict[str, Any]:
    return export("support-bot")


def _with_version(field: str, value: Any, index: int = 1) -> dict[str, Any]:
    document = _valid()
    document["versions"][index][field] = value
    return document


def _without_version_field(field: str) -> dict[str, Any]:
    document = _valid()
    del document["versions"][1][field]
    return document


def _with(field: str, value: Any) -> dict[str, Any]:
    return {**_valid(), field: value}


def _without(field: str) -> dict[str, Any]:
    document = _valid()
    del document[field]
    return document


MALFORMED: list[tuple[str, Any, str]] = [
    ("not JSON", lambda: "{not json", "is not valid JSON"),
    ("not UTF-8", lambda: b"\xff\xfe{}", "is not valid JSON"),
    ("NaN", lambda: '{"versions": [], "x": NaN}', "is not valid JSON: NaN is not JSON"),
    ("1e400", lambda: '{"versions": [], "x": 1e400}', "is not valid JSON"),
    ("nested deeply", lambda: "[" * 100_000 + "]" * 100_000, "is not valid JSON"),
    ("a list", lambda: "[1, 2]", "not a config history"),
    ("versions an object", lambda: '{"versions": {}}', "not a config history"),
    ("unknown format", lambda: _with("format", "x/9"), "unknown format 'x/9'"),
    ("current_version null", lambda: _with("current_version", None), "whole number"),
    ("no current_version", lambda: _without("current_version"), "no current_version"),
    ("no head", lambda: _without("chain_hash"), "head chain_hash None is not a SHA-256"),
    ("current_version a string", lambda: _with("current_version", "4"), "whole number"),
    ("current_version huge", lambda: _with("current_version", 10**30), "a number of 31 digits"),
    (
        "current_version 5,000 digits",
        lambda: json.dumps(_valid()).replace(
            '"current_version": 4', '"current_version": 1' + "0" * 5000
        ),
        "is not valid JSON: Exceeds the limit",
    ),
    ("head not a hash", lambda: _with("chain_hash", 5), "head chain_hash 5 is not a SHA-256"),
    ("entry a list", lambda: _with("versions", [[], *_valid()["versions"][1:]]), "not an object"),
    ("timestamp null", lambda: _with_version("timestamp", None), "timestamp must be a Unix"),
    ("timestamp 1e20", lambda: _with_version("timestamp", 1e20), "timestamp must be a Unix"),
    ("timestamp string", lambda: _with_version("timestamp", "2024"), "timestamp must be a Unix"),
    ("timestamp true", lambda: _with_version("timestamp", True), "timestamp must be a Unix"),
    ("timestamp negative", lambda: _with_version("timestamp", -5.0), "timestamp must be a Unix"),
    ("timestamp huge int", lambda: _with_version("timestamp", 10**30), "a number of 31 digits"),
    ("created_by 300", lambda: _with_version("created_by", "a" * 300), "created_by is 300 char"),
    ("created_by a number", lambda: _with_version("created_by", 7), "created_by must be text"),
    ("reason too long", lambda: _with_version("reason", "r" * 10_001), "reason is 10001 char"),
    ("reason null", lambda: _with_version("reason", None), "reason must be text"),
    ("metadata a list", lambda: _with_version("metadata", [1]), "metadata must be a JSON object"),
    ("metadata a string", lambda: _with_version("metadata", "x"), "metadata must be a JSON obj"),
    ("config a list", lambda: _with_version("config", [1]), "must be a JSON object"),
    ("config null", lambda: _with_version("config", None), "must be a JSON object"),
    ("NUL in config", lambda: _with_version("config", {"a": "x\x00"}), "NUL character"),
    ("NUL in a key", lambda: _with_version("config", {"a\x00": 1}), "NUL character"),
    ("NUL in reason", lambda: _with_version("reason", "a\x00"), "reason contains a NUL"),
    ("NUL in author", lambda: _with_version("created_by", "\x00"), "created_by contains a NUL"),
    ("NUL in metadata", lambda: _with_version("metadata", {"\x00": 1}), "metadata contains a NUL"),
    ("NUL in name", lambda: _with("name", "a\x00"), "name contains a NUL"),
    ("NUL in description", lambda: _with("description", "\x00"), "description contains a NUL"),
    ("NUL in schema", lambda: _with("schema", {"title": "\x00"}), "schema contains a NUL"),
    ("surrogate in reason", lambda: _with_version("reason", "\ud800"), "lone surrogate"),
    ("surrogate in config", lambda: _with_version("config", {"\udfff": 1}), "lone surrogate"),
    ("name too long", lambda: _with("name", "n" * 201), "name is 201 characters long"),
    ("name a number", lambda: _with("name", 5), "name must be text"),
    ("description too long", lambda: _with("description", "d" * 10_001), "description is 10001"),
    ("schema invalid", lambda: _with("schema", {"type": 5}), "Invalid JSON Schema"),
    ("schema a list", lambda: _with("schema", [1]), "must be an object"),
    ("version a string", lambda: _with_version("version", "2"), "has number '2'"),
    ("version a float", lambda: _with_version("version", 2.0), "has number 2.0"),
    ("version true", lambda: _with_version("version", True, index=0), "has number True"),
    ("version huge", lambda: _with_version("version", 10**30), "has number a number of 31 digits"),
    ("version 0", lambda: _with_version("version", 0, index=0), "has number 0"),
    ("previous huge", lambda: _with_version("previous_version", 10**20), "previous_version must"),
    ("previous later", lambda: _with_version("previous_version", 3), "previous_version must"),
    ("previous a string", lambda: _with_version("previous_version", "1"), "previous_version"),
    ("no config", lambda: _without_version_field("config"), "has no 'config' field"),
    ("no timestamp", lambda: _without_version_field("timestamp"), "has no 'timestamp' field"),
    ("no reason", lambda: _without_version_field("reason"), "has no 'reason' field"),
    ("no content hash", lambda: _without_version_field("content_hash"), "no 'content_hash'"),
    ("no chain hash", lambda: _without_version_field("chain_hash"), "no 'chain_hash'"),
    ("content hash short", lambda: _with_version("content_hash", "ab"), "is not a SHA-256"),
    ("chain hash a number", lambda: _with_version("chain_hash", 1), "is not a SHA-256"),
    ("too deep", lambda: _with_version("config", _deep(40)), "nested deeper than the limit"),
    ("too large", lambda: _with_version("config", {"a": "x" * 2_200_000}), "larger than the"),
]


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "make", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_is_one_line_and_writes_nothing(tmp_path, case, make, message):
    small_history()
    content = make()
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write(path, content)
    assert message in refused(path)


# Files without hashes ------------------------------------------------------------------------


@pytest.mark.django_db
def test_files_without_hashes_need_unverified(tmp_path):
    memory = ConfigVersionManager()
    memory.create({"a": 1}, created_by="configbot", metadata={"source": "wizard"})
    memory.update({"a": 2}, reason="bump")
    memory.rollback(1)
    dump = write(tmp_path / "dump.json", memory.to_dict())
    assert "a plain to_dict() dump carries no hashes" in refused(dump)
    assert "--unverified" in refused(dump)
    old = write(tmp_path / "old.json", {"format": "config_versions.history/1", **memory.to_dict()})
    assert "format config_versions.history/1 carries no hashes" in refused(old)

    call_command("import_config_history", str(dump), slug="from-dump", unverified=True)
    call_command("import_config_history", str(old), slug="from-old", unverified=True)
    assert recorded("from-dump") == recorded("from-old") == memory.to_dict()["versions"]
    assert verify_history(BotConfig.objects.get(slug="from-dump")) is None
    # Still checked for what a database can hold.
    broken = memory.to_dict()
    broken["versions"][1]["timestamp"] = 1e20
    assert "timestamp must be" in refused(write(dump, broken), unverified=True)


@pytest.mark.django_db
def test_unverified_does_not_skip_the_hashes_a_file_has(tmp_path):
    small_history()
    document = export("support-bot")
    document["versions"][0]["reason"] = "edited"
    assert "version 1: its recorded fields" in refused(
        write(tmp_path / "h.json", document), unverified=True
    )


# Random edits of a valid export ---------------------------------------------------------------


class _Rollback(Exception):
    pass


HOSTILE: st.SearchStrategy[Any] = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        2**31,
        2**63,
        10**30,
        10**4000,
        1e20,
        -0.0,
        1.5,
        1e308,
        "",
        "\x00",
        "a\x00b",
        "\ud800",
        "x" * 300,
        "y" * 10_001,
        "2024-01-01",
        "0" * 64,
        [],
        {},
        {"a": [1, {"b": None}]},
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    HOSTILE,
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


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
    """Change ``document`` (or its text) at random; the text to import."""
    kind = draw(st.sampled_from(["replace"] * 5 + ["delete", "insert", "versions", "text"]))
    paths = _paths(document)
    if kind == "replace":
        path = draw(st.sampled_from(paths[1:]))
        _at(document, path[:-1])[path[-1]] = draw(VALUES)
    elif kind == "delete":
        path = draw(
            st.sampled_from([p for p in paths[1:] if isinstance(_at(document, p[:-1]), dict)])
        )
        del _at(document, path[:-1])[path[-1]]
    elif kind == "insert":
        containers = [p for p in paths if isinstance(_at(document, p), dict)]
        target = _at(document, draw(st.sampled_from(containers)))
        target[draw(st.text(max_size=8))] = draw(VALUES)
    elif kind == "versions":
        versions = document["versions"]
        i = draw(st.integers(0, len(versions) - 1))
        j = draw(st.integers(0, len(versions) - 1))
        operation = draw(st.sampled_from(["swap", "drop", "duplicate", "truncate", "reverse"]))
        if operation == "swap":
            versions[i], versions[j] = versions[j], versions[i]
        elif operation == "drop":
            del versions[i]
        elif operation == "duplicate":
            versions.insert(j, copy.deepcopy(versions[i]))
        elif operation == "truncate":
            del versions[i:]
        else:
            versions.reverse()
    text = json.dumps(document, indent=2)
    if kind == "text":
        position = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "replace", "insert"]))
        char = draw(st.characters(codec="utf-8"))
        if how == "cut":
            text = text[:position]
        elif how == "replace":
            text = text[:position] + char + text[position + 1 :]
        else:
            text = text[:position] + char + text[position:]
    return text


def _check_faithful(slug: str, text: str) -> None:
    """The import succeeded: what was written is the file, and it verifies."""
    document = json.loads(text)
    bot = BotConfig.objects.get(slug=slug)
    assert verify_history(bot) is None
    stored = recorded(slug)
    assert len(stored) == len(document["versions"]) == bot.current_version
    for got, want in zip(stored, document["versions"], strict=True):
        assert got["version"] == want["version"]
        assert canonical_json(got["config"]) == canonical_json(want["config"])
        assert got["timestamp"] == want["timestamp"]
        assert got["reason"] == want["reason"]
        assert got["previous_version"] == want["previous_version"]
        assert got["created_by"] == want["created_by"]
        assert canonical_json(got["metadata"]) == canonical_json(want["metadata"] or {})
    name = document.get("name")
    assert bot.name == (name or slug)
    heads = bot.versions.order_by("-version").values_list("chain_hash", flat=True)
    assert (heads.first() or "") == document["chain_hash"]


@pytest.mark.django_db
def test_random_edits_of_an_export_import_faithfully_or_not_at_all(tmp_path):
    small_history()
    base = export("support-bot")
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
                    call_command(
                        "import_config_history", str(path), slug="mutant", stdout=StringIO()
                    )
                except CommandError as exc:
                    assert len(str(exc).splitlines()) == 1, str(exc)
                    assert not BotConfig.objects.filter(slug="mutant").exists()
                    outcomes["refused"] += 1
                else:
                    _check_faithful("mutant", text)
                    outcomes["imported"] += 1
                raise _Rollback
        except _Rollback:
            pass
        assert BotConfigVersion.objects.count() == 4

    run()
    # Both outcomes happen: a name, a signature or an extra key may change freely.
    assert outcomes["refused"] > 0
    assert outcomes["imported"] > 0
