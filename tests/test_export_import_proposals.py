"""Exports carry proposal events; imports check them and replay them (issue 14).

A ``config_versions.history/4`` export lists every proposal event (submitted, revised,
reviewed, withdrawn, applied) with its data and chain hash, and the last event's
(``proposal_chain_hash``). The import recomputes the chain, checks that each event is a
step a manager could have written, and refuses the whole file, in one line naming the
event, when one was edited, removed, added, reordered or forged; ``/3`` and ``/2``
files are imported as before. What is imported is the record exactly: the same events,
data (key order, 1e16, -0.0, unicode), chain hashes, and summaries.
"""

from __future__ import annotations

import copy
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

from config_versions import ConfigVersionManager
from config_versions.core.jsondata import GENESIS
from config_versions.core.proposals import ProposalEvent, event_chain_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.integrity import check_history, verify_history
from config_versions.models import (
    BotConfig,
    BotConfigLabelMove,
    BotConfigProposal,
    BotConfigProposalEvent,
    BotConfigVersion,
)
from config_versions.statements import created_at
from tests.test_export_import import VALUES, export, fast_history, write
from tests.test_verify_proposals import LABELS, REVIEW, reviewed, set_event

KEY = "x" * 40
_ENGINE = django_settings.DATABASES["default"]["ENGINE"]
EXAMPLES = int(os.environ.get("CV_MUTATION_EXAMPLES", 150 if _ENGINE.endswith("sqlite3") else 60))
CHAIN_MISMATCH = "its recorded fields (or the chain hash before it) do not match its chain hash"


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


def counts() -> tuple[int, ...]:
    return (
        BotConfig.objects.count(),
        BotConfigVersion.objects.count(),
        BotConfigLabelMove.objects.count(),
        BotConfigProposalEvent.objects.count(),
        BotConfigProposal.objects.count(),
    )


def imported(path: Path, slug: str = "copy", **options: Any) -> str:
    out = StringIO()
    call_command("import_config_history", str(path), slug=slug, stdout=out, **options)
    return out.getvalue()


def refused(path: Path, slug: str = "copy", **options: Any) -> str:
    """Import ``path``; assert a one-line CommandError and nothing written; the message."""
    before = counts()
    with pytest.raises(CommandError) as caught:
        imported(path, slug, **options)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert message.endswith("; nothing imported."), message
    assert message.startswith(f"{path}: "), message
    assert counts() == before
    return message


def events_of(slug: str) -> list[dict[str, Any]]:
    """The config's proposal events as to_dict() lists them (with their chain hashes)."""
    data = BotConfig.objects.get(slug=slug).version_manager.to_dict()
    events: list[dict[str, Any]] = data.get("proposal_events", [])
    return events


def stored(slug: str) -> list[tuple[Any, ...]]:
    """The config's event rows and summary rows, as the database holds them."""
    events = BotConfigProposalEvent.objects.filter(bot_config__slug=slug).order_by("sequence")
    summaries = BotConfigProposal.objects.filter(bot_config__slug=slug).order_by("number")
    return [
        *events.values_list(
            "sequence", "proposal", "kind", "timestamp", "actor", "data", "chain_hash"
        ),
        *summaries.values_list(
            "number",
            "status",
            "author",
            "label",
            "base_version",
            "revision",
            "approvals",
            "reason",
            "applied_version",
            "created_at",
            "updated_at",
        ),
    ]


def rechained(document: dict[str, Any]) -> dict[str, Any]:
    """Every event renumbered and re-chained, and the head set: what someone who knows
    the (public) hashing scheme writes after editing the file."""
    previous = GENESIS
    for number, entry in enumerate(document["proposal_events"], start=1):
        entry["sequence"] = number
        entry.pop("signature", None)
        event = ProposalEvent.from_dict(entry)
        entry["chain_hash"] = previous = event_chain_hash(previous, event)
    document["proposal_chain_hash"] = previous
    return document


# Exports -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_export_carries_every_event_and_the_events_head(tmp_path):
    bot = reviewed("alpha")
    document = export("alpha")
    assert document["format"] == "config_versions.history/4"
    assert document["proposal_events"] == events_of("alpha")
    rows = list(BotConfigProposalEvent.objects.filter(bot_config=bot).order_by("sequence"))
    assert [e["chain_hash"] for e in document["proposal_events"]] == [r.chain_hash for r in rows]
    assert document["proposal_chain_hash"] == rows[-1].chain_hash
    assert document["proposal_events"][6] == {
        "sequence": 7,
        "proposal": 2,
        "kind": "reviewed",
        "timestamp": rows[6].timestamp,
        "actor": "bo",
        "data": {"decision": "approve", "comment": "ok", "revision": 2},
        "chain_hash": rows[6].chain_hash,
    }
    # Each event's data is the stored text, parsed: key order and values as written.
    for entry, row in zip(document["proposal_events"], rows, strict=True):
        assert json.dumps(entry["data"], separators=(",", ":"), ensure_ascii=False) == row.data
    out = StringIO()
    call_command("export_config_history", "alpha", stdout=out)
    text = out.getvalue()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    err = StringIO()
    call_command("export_config_history", "alpha", output=str(tmp_path / "a.json"), stderr=err)
    assert (tmp_path / "a.json").read_text() == text
    assert (
        "Exported 3 version(s), 2 label move(s) and 12 proposal event(s) of 'alpha'"
        in err.getvalue()
    )


@pytest.mark.django_db
def test_an_export_without_proposals():
    BotConfig.objects.create(name="Empty", slug="empty")
    document = export("empty")
    assert (document["proposal_events"], document["proposal_chain_hash"]) == ([], "")


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS={"SIGNING_KEY": KEY, "LABELS": LABELS, "REVIEW": REVIEW})
def test_an_export_carries_event_signatures_the_import_does_not_copy(tmp_path):
    reviewed("alpha")
    document = export("alpha")
    for event in document["proposal_events"]:
        assert event["signature"] == sign_chain_hash(KEY, event["chain_hash"])
    other = "y" * 40
    with override_settings(CONFIG_VERSIONS={"SIGNING_KEY": other, "LABELS": LABELS}):
        imported(write(tmp_path / "h.json", document))
        copied = BotConfig.objects.get(slug="copy")
        assert verify_history(copied) is None
    rows = BotConfigProposalEvent.objects.filter(bot_config=copied)
    for link, signature in rows.values_list("chain_hash", "signature"):
        assert signature == sign_chain_hash(other, link)


@pytest.mark.django_db(transaction=True)
def test_an_export_of_tampered_events_warns_and_is_refused(tmp_path):
    bot = reviewed("alpha")
    set_event(bot, 5, actor="mallory")
    err = StringIO()
    path = tmp_path / "h.json"
    call_command("export_config_history", "alpha", output=str(path), stderr=err)
    assert (
        f"Warning: the history does not verify (alpha: proposal event 5 (proposal 2): "
        f"{CHAIN_MISMATCH})" in err.getvalue()
    )
    assert f"proposal event 5 (proposal 2): {CHAIN_MISMATCH}" in refused(path)
    # Data that is not JSON at all is shown as stored, and refused.
    set_event(bot, 5, data="{not json")
    call_command("export_config_history", "alpha", output=str(path), stderr=StringIO())
    assert json.loads(path.read_text())["proposal_events"][4]["data"] == "{not json"
    assert "proposal event 5 (proposal 2): data must be a JSON object, not '{not json'" in (
        refused(path)
    )


# Round trips ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_round_trip_keeps_every_event_exactly(tmp_path):
    bot = reviewed("alpha")
    path = write(tmp_path / "h.json", export("alpha"))
    assert imported(path) == (
        "Imported 3 version(s), 2 label move(s) and 12 proposal event(s) into 'copy'.\n"
    )
    original, copied = bot.version_manager, BotConfig.objects.get(slug="copy").version_manager
    assert copied.to_dict() == original.to_dict()  # every field and hash
    assert copied.proposals() == original.proposals()
    # The rows themselves: the data texts byte for byte, the summaries field for field.
    assert stored("copy") == stored("alpha")
    config = copied.get_proposal(1).config
    assert list(config) == ["model", "prompt", "limits", "big", "zero"]  # as written
    assert isinstance(config["big"], float)
    assert config["big"] == 1e16
    assert str(config["zero"]) == "-0.0"
    assert config["prompt"] == "Be kind. ✓ grüße"
    assert verify_history(BotConfig.objects.get(slug="copy")) is None
    again = export("copy")
    assert again["proposal_events"] == export("alpha")["proposal_events"]
    assert again["proposal_chain_hash"] == export("alpha")["proposal_chain_hash"]


@pytest.mark.django_db
def test_odd_values_and_key_order_inside_events_survive(tmp_path):
    bot = BotConfig.objects.create(name="Odd", slug="odd")
    manager = bot.version_manager
    manager.save({"z": 1, "a": {"y": 2, "b": [1, {"d": 0, "c": 1}]}}, "first")
    odd = {
        "z": 1e16,
        "a": {"y": -0.0, "b": [1, {"d": 0, "c": 1e-7}]},
        "ü": 'line\u2028sep 🤖 "quoted" \\',
        "big": 12345678901234567890,
        "m": [],
        "e": {},
    }
    manager.propose(odd, 1, "Odd ✓\nvalues", created_by="Zoë")
    manager.review_proposal(1, "approve", "bó", "ok \u2028 fine")
    manager.apply_proposal(1, "bó")
    path = write(tmp_path / "odd.json", export("odd"))
    imported(path)
    assert stored("copy") == stored("odd")
    config = BotConfig.objects.get(slug="copy").version_manager.get_proposal(1).config
    assert json.dumps(config) == json.dumps(odd)  # key order, types and signs
    assert str(config["a"]["y"]) == "-0.0"
    assert verify_history(BotConfig.objects.get(slug="copy")) is None


@pytest.mark.django_db
def test_an_import_summarises_under_the_review_policy_of_today(tmp_path):
    reviewed("alpha")
    path = write(tmp_path / "h.json", export("alpha"))
    stricter = {"labels": ["production"], "required_approvals": 2}
    with override_settings(CONFIG_VERSIONS={"LABELS": LABELS, "REVIEW": stricter}):
        imported(path)
        copied = BotConfig.objects.get(slug="copy")
        assert BotConfigProposal.objects.get(bot_config=copied, number=2).status == "open"
        assert check_history(copied).ok
    assert check_history(copied).ok  # and under the policy the source was written with


@pytest.mark.django_db
def test_old_exports_are_still_imported(tmp_path):
    reviewed("alpha")
    document = export("alpha")
    three = {k: v for k, v in document.items() if not k.startswith("proposal_")}
    three["format"] = "config_versions.history/3"
    out = imported(write(tmp_path / "three.json", three))
    assert out == "Imported 3 version(s) and 2 label move(s) into 'copy'.\n"
    copied = BotConfig.objects.get(slug="copy")
    assert copied.version_manager.proposals() == []
    assert verify_history(copied) is None
    two = {k: v for k, v in three.items() if not k.startswith("label_")}
    two["format"] = "config_versions.history/2"
    assert imported(write(tmp_path / "two.json", two), slug="two") == (
        "Imported 3 version(s) into 'two'.\n"
    )
    # A /3 or /2 file with events was not written by export_config_history: refused.
    for form in ("3", "2"):
        mixed = {**document, "format": f"config_versions.history/{form}"}
        if form == "2":
            mixed = {k: v for k, v in mixed.items() if not k.startswith("label_")}
        assert (
            f"format config_versions.history/{form} has no proposal events, yet the file "
            "lists proposal_events; expected format 'config_versions.history/4'"
        ) in refused(write(tmp_path / "mixed.json", mixed), slug="other")


# Edited, removed, reordered: refused ---------------------------------------------------------


def _edit(document: dict[str, Any], change: str) -> None:
    events = document["proposal_events"]
    if change == "comment":
        events[4]["data"]["comment"] = "fine"
    elif change == "decision":
        events[6]["data"]["decision"] = "reject"
    elif change == "revision reviewed":
        events[6]["data"]["revision"] = 1
    elif change == "actor":
        events[1]["actor"] = "mallory"
    elif change == "actor removed":
        events[1]["actor"] = None
    elif change == "timestamp":
        events[8]["timestamp"] += 0.5
    elif change == "kind":
        events[8]["kind"] = "applied"
    elif change == "proposal":
        events[6]["proposal"] = 3
    elif change == "config inside":
        events[0]["data"]["config"]["model"] = "gpt-5"
    elif change == "approvers":
        events[2]["data"]["approvers"] = ["mallory"]
    elif change == "applied version":
        events[11]["data"]["version"] = 2
    elif change == "a key added":
        events[4]["data"]["approvers"] = ["bo"]
    elif change == "chain hash":
        events[4]["chain_hash"] = "0" * 64
    elif change == "middle event removed":
        del events[4]
    elif change == "first event removed":
        del events[0]
    elif change == "reordered":
        events[4], events[5] = events[5], events[4]
    elif change == "reordered and renumbered":
        events[4], events[5] = events[5], events[4]
        events[4]["sequence"], events[5]["sequence"] = 5, 6
    elif change == "last event removed":
        del events[11]
    elif change == "an event added":
        events.append({**events[11], "sequence": 13})
    elif change == "head edited":
        document["proposal_chain_hash"] = "0" * 64
    elif change == "all events removed":
        document["proposal_events"] = []
    elif change == "events list removed":
        del document["proposal_events"]
    elif change == "head removed":
        del document["proposal_chain_hash"]


EDITS = [
    ("comment", f"proposal event 5 (proposal 2): {CHAIN_MISMATCH}"),
    ("decision", f"proposal event 7 (proposal 2): {CHAIN_MISMATCH}"),
    ("revision reviewed", f"proposal event 7 (proposal 2): {CHAIN_MISMATCH}"),
    ("actor", f"proposal event 2 (proposal 1): {CHAIN_MISMATCH}"),
    ("actor removed", f"proposal event 2 (proposal 1): {CHAIN_MISMATCH}"),
    ("timestamp", f"proposal event 9 (proposal 3): {CHAIN_MISMATCH}"),
    ("kind", f"proposal event 9 (proposal 3): {CHAIN_MISMATCH}"),
    ("proposal", f"proposal event 7 (proposal 3): {CHAIN_MISMATCH}"),
    ("config inside", f"proposal event 1 (proposal 1): {CHAIN_MISMATCH}"),
    ("approvers", f"proposal event 3 (proposal 1): {CHAIN_MISMATCH}"),
    ("applied version", f"proposal event 12 (proposal 4): {CHAIN_MISMATCH}"),
    ("a key added", f"proposal event 5 (proposal 2): {CHAIN_MISMATCH}"),
    ("chain hash", f"proposal event 5 (proposal 2): {CHAIN_MISMATCH}"),
    ("middle event removed", "proposal event entry 5 has number 6; proposal events must be"),
    ("first event removed", "proposal event entry 1 has number 2"),
    ("reordered", "proposal event entry 5 has number 6"),
    ("reordered and renumbered", f"proposal event 5 (proposal 2): {CHAIN_MISMATCH}"),
    ("last event removed", "the proposal events' chain does not end at the file's"),
    ("an event added", f"proposal event 13 (proposal 4): {CHAIN_MISMATCH}"),
    ("head edited", "the proposal events' chain does not end at the file's proposal_chain_hash"),
    ("all events removed", "the proposal events' chain does not end at the file's"),
    ("events list removed", "no proposal_events"),
    ("head removed", "its proposal_chain_hash None is not a SHA-256"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "message"), EDITS, ids=[e[0] for e in EDITS])
def test_an_edited_export_is_refused_whole(tmp_path, change, message):
    reviewed("alpha")
    document = export("alpha")
    _edit(document, change)
    got = refused(write(tmp_path / "h.json", document))
    assert message in got, got


def _review_of(proposal: int, revision: int = 1, actor: str = "mallory") -> dict[str, Any]:
    return {
        "proposal": proposal,
        "kind": "reviewed",
        "timestamp": 1_900_000_000.0,
        "actor": actor,
        "data": {"decision": "approve", "comment": "", "revision": revision},
    }


def _forge(document: dict[str, Any], change: str) -> None:
    """Edits that keep the chain whole (re-chained after): steps no manager writes."""
    events = document["proposal_events"]
    if change == "a review of a proposal never submitted":
        events.append(_review_of(9))
    elif change == "a review before the submission":
        events.insert(0, _review_of(1))
    elif change == "an approval of an older revision":
        events.insert(7, _review_of(2, revision=1))
    elif change == "a revision by someone else":
        events.insert(7, {**events[5], "actor": "mallory"})
    elif change == "a review after the withdrawal":
        events.insert(9, _review_of(3))
    elif change == "the apply's approvers":
        events[2]["data"]["approvers"] = ["mallory"]
    elif change == "an apply without its approval":
        del events[1]
    elif change == "an apply as another version":
        events[11]["data"]["version"] = 2
    elif change == "an apply naming a move of another label":
        events[2]["data"]["label_move"] = 1
    elif change == "a proposal submitted twice":
        events.append({**events[0], "timestamp": 1_900_000_000.0})
    elif change == "a base version the file does not hold":
        events[7]["data"]["base_version"] = 4


FORGED = [
    (
        "a review of a proposal never submitted",
        "proposal event 13 (proposal 9): a step of proposal 9, which was never submitted",
    ),
    (
        "a review before the submission",
        "proposal event 1 (proposal 1): a step of proposal 1, which was never submitted",
    ),
    (
        "an approval of an older revision",
        "proposal event 8 (proposal 2): reviews revision 1, but revision 2 was current",
    ),
    (
        "a revision by someone else",
        "proposal event 8 (proposal 2): revised by 'mallory', but only its author ('cy') may",
    ),
    (
        "a review after the withdrawal",
        "proposal event 10 (proposal 3): a step of proposal 3 after it was withdrawn (event 9)",
    ),
    (
        "the apply's approvers",
        "proposal event 3 (proposal 1): records the approvers ['mallory'], but the reviews of "
        "revision 1 approve ['bo']",
    ),
    (
        "an apply without its approval",
        "proposal event 2 (proposal 1): records the approvers ['bo'], but the reviews of "
        "revision 1 approve []",
    ),
    (
        "an apply as another version",
        "proposal event 12 (proposal 4): applies it as version 2, but a proposal made from "
        "version 3 becomes version 4",
    ),
    (
        "an apply naming a move of another label",
        "proposal event 3 (proposal 1): records label move 1, which moved 'staging' to version "
        "1, not 'production' to version 3",
    ),
    ("a proposal submitted twice", "proposal event 13 (proposal 1): submits proposal 1 again"),
    (
        "a base version the file does not hold",
        "proposal event 8 (proposal 3): its submitted data's base_version is not a version the "
        "history holds (it has 3): 4",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "message"), FORGED, ids=[f[0] for f in FORGED])
def test_a_forged_but_rechained_event_is_refused_naming_it(tmp_path, change, message):
    reviewed("alpha")
    document = export("alpha")
    _forge(document, change)
    got = refused(write(tmp_path / "h.json", rechained(document)))
    assert message in got, got


@pytest.mark.django_db
def test_events_cut_with_their_head_are_a_shorter_record(tmp_path):
    """As for versions and moves: the file alone cannot tell; a checkpoint can."""
    reviewed("alpha")
    document = export("alpha")
    del document["proposal_events"][9:]
    document["proposal_chain_hash"] = document["proposal_events"][-1]["chain_hash"]
    out = imported(write(tmp_path / "h.json", document))
    assert out == "Imported 3 version(s), 2 label move(s) and 9 proposal event(s) into 'copy'.\n"
    copied = BotConfig.objects.get(slug="copy")
    assert [p.id for p in copied.version_manager.proposals()] == [3, 2, 1]
    assert verify_history(copied) is None


def _with_event(field: str, value: Any, index: int = 4) -> Any:
    def make(document: dict[str, Any]) -> dict[str, Any]:
        document["proposal_events"][index][field] = value
        return document

    return make


def _with_data(field: str, value: Any, index: int = 0) -> Any:
    def make(document: dict[str, Any]) -> dict[str, Any]:
        document["proposal_events"][index]["data"][field] = value
        return document

    return make


def _without_event_field(field: str) -> Any:
    def make(document: dict[str, Any]) -> dict[str, Any]:
        del document["proposal_events"][4][field]
        return document

    return make


def _with(field: str, value: Any) -> Any:
    return lambda document: {**document, field: value}


MALFORMED: list[tuple[str, Any, str]] = [
    ("events an object", _with("proposal_events", {}), "proposal_events must be a list"),
    ("events null", _with("proposal_events", None), "proposal_events must be a list"),
    ("head null", _with("proposal_chain_hash", None), "its proposal_chain_hash None is not"),
    ("head short", _with("proposal_chain_hash", "ab"), "its proposal_chain_hash 'ab' is not"),
    ("entry a list", _with("proposal_events", [[]]), "proposal event entry 1 is not an object"),
    ("sequence a string", _with_event("sequence", "5"), "proposal event entry 5 has number '5'"),
    ("sequence true", _with_event("sequence", True, 0), "proposal event entry 1 has number True"),
    ("sequence 0", _with_event("sequence", 0, 0), "proposal event entry 1 has number 0"),
    ("proposal 0", _with_event("proposal", 0), "proposal must be a number from 1, not 0"),
    ("proposal true", _with_event("proposal", True), "proposal must be a number from 1, not True"),
    ("proposal text", _with_event("proposal", "2"), "proposal must be a number from 1, not '2'"),
    ("proposal huge", _with_event("proposal", 2**40), "proposal must be a number from 1"),
    ("kind a number", _with_event("kind", 5), "proposal event 5 (proposal 2): kind must be text"),
    ("actor 300", _with_event("actor", "a" * 300), "actor is 300 char"),
    ("actor a number", _with_event("actor", 7), "actor must be text"),
    ("NUL in actor", _with_event("actor", "a\x00"), "actor contains a NUL"),
    ("data a list", _with_event("data", []), "data must be a JSON object, not []"),
    ("data null", _with_event("data", None), "data must be a JSON object, not None"),
    ("NUL in config", _with_data("config", {"a": "\x00"}), "contains a NUL character"),
    ("NUL in comment", _with_data("comment", "\x00", 4), "The data contains a NUL character"),
    ("surrogate in reason", _with_data("reason", "\ud800"), "lone surrogate"),
    ("comment too long", _with_data("comment", "c" * 10_001, 4), "comment is 10001 char"),
    ("reason too long", _with_data("reason", "r" * 10_001), "reason is 10001 char"),
    ("timestamp null", _with_event("timestamp", None), "timestamp must be a Unix time"),
    ("timestamp 1e20", _with_event("timestamp", 1e20), "timestamp must be a Unix time"),
    ("timestamp true", _with_event("timestamp", True), "timestamp must be a Unix time"),
    ("chain hash empty", _with_event("chain_hash", ""), "chain_hash '' is not a SHA-256"),
    ("chain hash null", _with_event("chain_hash", None), "chain_hash None is not a SHA-256"),
    ("no chain hash", _without_event_field("chain_hash"), "has no 'chain_hash' field"),
    ("no sequence", _without_event_field("sequence"), "has no 'sequence' field"),
    ("no proposal", _without_event_field("proposal"), "has no 'proposal' field"),
    ("no kind", _without_event_field("kind"), "has no 'kind' field"),
    ("no actor", _without_event_field("actor"), "has no 'actor' field"),
    ("no data", _without_event_field("data"), "has no 'data' field"),
    ("no timestamp", _without_event_field("timestamp"), "has no 'timestamp' field"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "make", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_event_is_one_line_and_writes_nothing(tmp_path, case, make, message):
    reviewed("alpha")
    got = refused(write(tmp_path / "bad.json", make(export("alpha"))))
    assert message in got, got


@pytest.mark.django_db
def test_a_config_nested_too_deep_inside_an_event(tmp_path, settings):
    reviewed("alpha")
    document = export("alpha")
    deep: dict[str, Any] = {}
    for _ in range(40):
        deep = {"d": deep}
    document["proposal_events"][0]["data"]["config"] = deep
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW, "MAX_DEPTH": 10}
    assert "proposal event 1 (proposal 1): the config is nested deeper than the limit of 10" in (
        refused(write(tmp_path / "deep.json", document))
    )


# Files without hashes --------------------------------------------------------------------------


def _memory() -> ConfigVersionManager:
    memory = ConfigVersionManager(labels=LABELS.keys())
    memory.save({"n": 1, "b": 2}, "v1")
    memory.propose({"n": 2, "b": 2}, 1, "two", created_by="ana", label="staging")
    memory.review_proposal(1, "approve", "bo")
    memory.apply_proposal(1, "bo")
    memory.propose({"n": 3}, 2, "three", created_by="cy")
    return memory


@pytest.mark.django_db
def test_a_dump_with_proposals_needs_unverified_and_keeps_them(tmp_path):
    memory = _memory()
    data = memory.to_dict()
    dump = write(tmp_path / "dump.json", data)
    assert "a plain to_dict() dump carries no hashes" in refused(dump)
    out = imported(dump, unverified=True)
    assert out == ("Imported 2 version(s), 1 label move(s) and 4 proposal event(s) into 'copy'.\n")
    copied = BotConfig.objects.get(slug="copy")
    assert events_of("copy") == data["proposal_events"]  # the same chain hashes
    assert [p.status for p in copied.version_manager.proposals()] == ["open", "applied"]
    assert verify_history(copied) is None


@pytest.mark.django_db
def test_unverified_does_not_skip_the_hashes_events_have(tmp_path):
    data = _memory().to_dict()
    data["proposal_events"][1]["data"]["comment"] = "edited"
    message = refused(write(tmp_path / "dump.json", data), unverified=True)
    assert f"proposal event 2 (proposal 1): {CHAIN_MISMATCH}" in message


@pytest.mark.django_db
def test_unverified_events_without_hashes_must_still_be_steps_a_manager_writes(tmp_path):
    data = _memory().to_dict()
    for event in data["proposal_events"]:
        del event["chain_hash"]
        del event["sequence"]
    data["proposal_events"][0]["data"]["reason"] = "rewritten"
    imported(write(tmp_path / "dump.json", data), unverified=True)
    manager = BotConfig.objects.get(slug="copy").version_manager
    assert manager.get_proposal(1).reason == "rewritten"
    broken = copy.deepcopy(data)
    del broken["proposal_events"][0]
    assert "proposal event 1 (proposal 1): a step of proposal 1, which was never submitted" in (
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
    """Change the events of ``document`` (or their head) at random; the text to import.
    Half of the changes are re-chained, as someone who knows the hashing would."""
    kind = draw(st.sampled_from(["replace"] * 4 + ["delete", "events"]))
    events = document["proposal_events"]
    prefixes = (("proposal_events",), ("proposal_chain_hash",))
    paths = [p for p in _paths(document) if p[:1] in prefixes]
    if kind == "replace":
        path = draw(st.sampled_from(paths))
        _at(document, path[:-1])[path[-1]] = draw(VALUES)
    elif kind == "delete":
        path = draw(st.sampled_from([p for p in paths if isinstance(_at(document, p[:-1]), dict)]))
        del _at(document, path[:-1])[path[-1]]
    else:
        i = draw(st.integers(0, len(events) - 1))
        j = draw(st.integers(0, len(events) - 1))
        operation = draw(st.sampled_from(["swap", "drop", "duplicate", "truncate", "reverse"]))
        if operation == "swap":
            events[i], events[j] = events[j], events[i]
        elif operation == "drop":
            del events[i]
        elif operation == "duplicate":
            events.insert(j, copy.deepcopy(events[i]))
        elif operation == "truncate":
            del events[i:]
        else:
            events.reverse()
    if draw(st.booleans()):
        try:
            rechained(document)
        except (KeyError, TypeError, AttributeError, ValueError):
            pass  # no longer shaped like events: imported as it stands
    return json.dumps(document, indent=2)


@pytest.mark.django_db
def test_random_edits_of_the_events_import_faithfully_or_not_at_all(tmp_path):
    reviewed("alpha")
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
                    report = check_history(bot)
                    assert report.ok, [str(b) for b in report.all_breaks]
                    assert events_of("mutant") == document["proposal_events"]
                    outcomes["imported"] += 1
                raise _Rollback
        except _Rollback:
            pass
        assert BotConfigProposalEvent.objects.count() == 12

    run()
    # Both outcomes happen: a re-chained edit of a comment or a reason is a valid record.
    assert outcomes["refused"] > 0
    assert outcomes["imported"] > 0


# Long records ------------------------------------------------------------------------------------


def _many_proposals(bot: BotConfig) -> int:
    """A proposal per version of ``bot`` (written by fast_history), each submitted with
    that version's config, approved and applied as it (nothing to write): three events
    each, written in bulk with their chain hashes and summaries (no store)."""
    previous = GENESIS
    events: list[BotConfigProposalEvent] = []
    summaries: list[BotConfigProposal] = []
    versions = list(bot.versions.order_by("version").values_list("version", "config"))
    for number, config in versions:
        start = 1_700_000_000 + number * 10 + 0.5
        steps = [
            (
                "submitted",
                "ana",
                {"config": config, "base_version": number, "reason": f"p{number}", "label": None},
            ),
            ("reviewed", "bo", {"decision": "approve", "comment": "", "revision": 1}),
            (
                "applied",
                "bo",
                {
                    "version": number,
                    "revision": 1,
                    "label": None,
                    "label_move": None,
                    "approvers": ["bo"],
                    "merged_onto": None,
                },
            ),
        ]
        for offset, (kind, actor, data) in enumerate(steps):
            event = ProposalEvent(number, kind, start + offset, actor, data, len(events) + 1)
            previous = event_chain_hash(previous, event)
            events.append(
                BotConfigProposalEvent(
                    bot_config=bot,
                    sequence=event.sequence,
                    proposal=number,
                    kind=kind,
                    timestamp=event.timestamp,
                    created_at=created_at(event.timestamp),
                    actor=actor,
                    data=json.dumps(data, separators=(",", ":"), ensure_ascii=False),
                    chain_hash=previous,
                )
            )
        summaries.append(
            BotConfigProposal(
                bot_config=bot,
                number=number,
                status="applied",
                author="ana",
                label=None,
                base_version=number,
                revision=1,
                approvals=1,
                reason=f"p{number}",
                applied_version=number,
                created_at=created_at(start),
                updated_at=created_at(start + 2),
            )
        )
    BotConfigProposalEvent.objects.bulk_create(events, batch_size=500)
    BotConfigProposal.objects.bulk_create(summaries, batch_size=500)
    return len(events)


@pytest.mark.django_db
def test_more_events_and_applies_than_a_page_verify_export_and_import(tmp_path):
    bot = fast_history("many", 520)
    count = _many_proposals(bot)
    report = check_history(bot)
    assert report.ok, [str(b) for b in report.all_breaks[:3]]
    assert (report.events, report.proposals) == (count, 520) == (1560, 520)
    document = export("many")
    assert len(document["proposal_events"]) == 1560
    assert document["proposal_chain_hash"] == document["proposal_events"][-1]["chain_hash"]
    edited = copy.deepcopy(document)
    edited["proposal_events"][1000]["actor"] = "quietly"
    assert f"proposal event 1001 (proposal 334): {CHAIN_MISMATCH}" in refused(
        write(tmp_path / "edited.json", edited)
    )
    # A submission whose config is not the version its apply names (re-chained): found
    # when the applies' claims are settled, a page of them at a time, or at the end.
    for proposal in (7, 520):
        forged = copy.deepcopy(document)
        forged["proposal_events"][3 * (proposal - 1)]["data"]["config"]["n"] = -1
        assert (
            f"proposal event {3 * proposal} (proposal {proposal}): applies it as version "
            f"{proposal}, whose metadata names no proposal, and which does not hold what "
            "applying it would have written"
        ) in refused(write(tmp_path / "forged.json", rechained(forged)))
    path = write(tmp_path / "many.json", document)
    assert "1560 proposal event(s)" in imported(path)
    assert export("copy")["proposal_events"] == document["proposal_events"]
    assert check_history(BotConfig.objects.get(slug="copy")).ok
