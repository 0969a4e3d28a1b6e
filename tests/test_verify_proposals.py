"""verify_config_history covers proposals (issue 14): their events' numbering, chain,
signatures and checkpoints; that each event is a step a manager could have written;
that an apply names the version it wrote; that the summary rows match the events; and
purge removes them.

Hostile cases tamper in SQL, as someone with database access would: forged events are
INSERTed (the triggers refuse only UPDATE and DELETE), edits in place drop migration
0008's triggers for the edit and put them back after; summary rows have no triggers.
These tests commit (``transaction=True``) on every database.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from config_versions.checkpoints import read_checkpoint
from config_versions.conf import settings as cv_settings
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
    PurgedConfig,
)
from config_versions.proposal_integrity import ProposalBreak
from config_versions.purge import purge_history
from config_versions.statements import created_at
from tests.test_verify import verify, verify_failing, verify_json
from tests.threads import in_thread

proposals_migration = importlib.import_module("config_versions.migrations.0008_proposals")

KEY = "k" * 40
LABELS = {"staging": {}, "production": {"protected": True}}
REVIEW = {"labels": ["production"]}
SIGNED = {"SIGNING_KEY": KEY, "LABELS": LABELS, "REVIEW": REVIEW}
EVENTS = BotConfigProposalEvent._meta.db_table
SUMMARIES = BotConfigProposal._meta.db_table
CHAIN_MISMATCH = "its recorded fields (or the chain hash before it) do not match its chain hash"

tampering = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


# Histories with proposals ----------------------------------------------------------------

BASE = {"model": "gpt-4", "prompt": "Be kind.", "limits": {"tokens": 500}}


def reviewed(slug: str) -> BotConfig:
    """Three versions, two label moves and twelve proposal events of four proposals:

    ==  ======================================================  =================
    #   event                                                   proposal
    ==  ======================================================  =================
    1   ana submits 1 from v1 (production)                      1
    2   bo approves 1                                           1
    3   bo applies 1, merged onto v2 (ana's edit): v3, move 2   1 (applied)
    4   cy submits 2 from v3                                    2
    5   bo rejects 2's revision 1                               2
    6   cy revises 2 from v3                                    2
    7   bo approves revision 2                                  2 (approved)
    8   ana submits 3 from v3                                   3
    9   ana withdraws 3                                         3 (withdrawn)
    10  ana submits 4 from v3: v3's own config                  4
    11  dee approves 4                                          4
    12  dee applies 4: nothing to write, it is v3               4 (applied)
    ==  ======================================================  =================
    """
    bot = BotConfig.objects.create(name=slug.title(), slug=slug)
    manager = bot.version_manager
    manager.save(BASE, "first", created_by="ana")
    manager.set_label("staging", 1, created_by="ana")
    manager.propose(
        {**BASE, "prompt": "Be kind. ✓ grüße", "big": 1e16, "zero": -0.0},
        1,
        "Kinder",
        created_by="ana",
        label="production",
    )
    manager.review_proposal(1, "approve", "bo", "fine")
    manager.save({**BASE, "limits": {"tokens": 800}}, "more tokens", created_by="ana")
    manager.apply_proposal(1, "bo")
    latest = manager.current_config
    assert latest is not None
    manager.propose({**latest, "model": "claude"}, 3, "Switch", created_by="cy")
    manager.review_proposal(2, "reject", "bo", "not yet")
    manager.revise(2, {**latest, "model": "claude", "tools": ["a"]}, 3, "With a tool", "cy")
    manager.review_proposal(2, "approve", "bo", "ok", revision=2)
    manager.propose({**latest, "n": 3}, 3, "Third", created_by="ana")
    manager.withdraw_proposal(3, "ana", "never mind")
    manager.propose(latest, 3, "Nothing new", created_by="ana")
    manager.review_proposal(4, "approve", "dee")
    manager.apply_proposal(4, "dee")
    bot.refresh_from_db()
    return bot


def event_breaks(slug: str) -> list[tuple[int | None, int | None, str]]:
    bot = BotConfig.objects.get(slug=slug)
    report = check_history(bot, signing_key=cv_settings.SIGNING_KEY)
    return [(b.sequence, b.proposal, b.problem) for b in report.event_breaks]


def events_of(bot: BotConfig) -> list[BotConfigProposalEvent]:
    return list(BotConfigProposalEvent.objects.filter(bot_config=bot).order_by("sequence"))


# Tampering, as someone with write access to the database ---------------------------------


@contextmanager
def event_triggers_off() -> Iterator[None]:
    with connection.schema_editor() as editor:
        proposals_migration.runner(proposals_migration.EVENTS, 1)(None, editor)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            proposals_migration.runner(proposals_migration.EVENTS, 0)(None, editor)


def sql(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def set_event(bot: BotConfig, sequence: int, **columns: Any) -> None:
    """UPDATE one event row's columns (``data`` given as its text)."""
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(name)} = %s" for name in columns)
    with event_triggers_off():
        sql(
            f"UPDATE {qn(EVENTS)} SET {assignments} WHERE {qn('bot_config_id')} = %s "
            f"AND {qn('sequence')} = %s",
            [*columns.values(), bot.pk, sequence],
        )


def delete_events(bot: BotConfig, *, above: int = 0, only: int | None = None) -> None:
    qn = connection.ops.quote_name
    condition = f"{qn('sequence')} = %s" if only is not None else f"{qn('sequence')} > %s"
    with event_triggers_off():
        sql(
            f"DELETE FROM {qn(EVENTS)} WHERE {qn('bot_config_id')} = %s AND {condition}",
            [bot.pk, only if only is not None else above],
        )


def swap_events(bot: BotConfig, first: int, second: int) -> None:
    qn = connection.ops.quote_name
    where = f"WHERE {qn('bot_config_id')} = %s AND {qn('sequence')} = %s"
    with event_triggers_off():
        for old, new in ((first, 10_000), (second, first), (10_000, second)):
            sql(f"UPDATE {qn(EVENTS)} SET {qn('sequence')} = %s {where}", [new, bot.pk, old])


def as_event(row: BotConfigProposalEvent) -> ProposalEvent:
    return ProposalEvent(
        proposal=row.proposal,
        kind=row.kind,
        timestamp=row.timestamp,
        actor=row.actor,
        data=json.loads(row.data),
        sequence=row.sequence,
    )


def rechain_events(bot: BotConfig, at: int, edit: Callable[[ProposalEvent], ProposalEvent]) -> None:
    """Edit event ``at`` and recompute every chain hash from there, as someone who knows
    the (public) hashing scheme would. Signatures stay: nobody can recompute them
    without the key."""
    rows = events_of(bot)
    previous = rows[at - 2].chain_hash if at > 1 else GENESIS
    qn = connection.ops.quote_name
    with event_triggers_off():
        for row in rows[at - 1 :]:
            event = as_event(row)
            if row.sequence == at:
                event = edit(event)
            link = event_chain_hash(previous, event)
            sql(
                f"UPDATE {qn(EVENTS)} SET {qn('proposal')} = %s, {qn('kind')} = %s, "
                f"{qn('actor')} = %s, {qn('data')} = %s, {qn('chain_hash')} = %s WHERE id = %s",
                [
                    event.proposal,
                    event.kind,
                    event.actor,
                    json.dumps(event.data, separators=(",", ":"), ensure_ascii=False),
                    link,
                    row.pk,
                ],
            )
            previous = link


def forge(
    bot: BotConfig,
    kind: str,
    proposal: int,
    actor: str | None,
    data: dict[str, Any],
    *,
    text: str | None = None,
) -> int:
    """INSERT a forged event after the last one, chained as the app would chain it (the
    triggers let INSERTs through); its sequence."""
    last = events_of(bot)[-1]
    event = ProposalEvent(proposal, kind, last.timestamp + 1, actor, data, last.sequence + 1)
    link = event_chain_hash(last.chain_hash, event)
    BotConfigProposalEvent.objects.create(
        bot_config=bot,
        sequence=event.sequence,
        proposal=proposal,
        kind=kind,
        timestamp=event.timestamp,
        created_at=created_at(event.timestamp),
        actor=actor,
        data=text if text is not None else json.dumps(data, separators=(",", ":")),
        chain_hash=link,
    )
    return event.sequence


def set_summary(bot: BotConfig, number: int, **columns: Any) -> None:
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(name)} = %s" for name in columns)
    sql(
        f"UPDATE {qn(SUMMARIES)} SET {assignments} WHERE {qn('bot_config_id')} = %s "
        f"AND {qn('number')} = %s",
        [*columns.values(), bot.pk, number],
    )


def sign_events(bot: BotConfig, key: str = KEY, sequences: range | None = None) -> None:
    qn = connection.ops.quote_name
    with event_triggers_off():
        for row in events_of(bot):
            signature = (
                sign_chain_hash(key, row.chain_hash)
                if sequences is None or row.sequence in sequences
                else None
            )
            sql(
                f"UPDATE {qn(EVENTS)} SET {qn('signature')} = %s WHERE id = %s", [signature, row.pk]
            )


# Intact ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_intact_proposals_are_counted_in_text_and_json():
    bot = reviewed("alpha")
    BotConfig.objects.create(name="Plain", slug="plain").version_manager.save({"a": 1})
    assert [p.status for p in bot.version_manager.proposals()] == [
        "applied",
        "withdrawn",
        "approved",
        "applied",
    ]
    out = verify()
    assert (
        "alpha: 3 version(s) intact; 2 label move(s) intact; 12 proposal event(s) of 4 "
        "proposal(s) intact." in out
    )
    assert "plain: 1 version(s) intact." in out  # no proposals: as before
    document = verify_json()
    alpha = document["configs"][0]
    last = events_of(bot)[-1]
    assert alpha["proposals"] == {
        "events": 12,
        "chain_hash": last.chain_hash,
        "proposals": 4,
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
    assert document["configs"][1]["proposals"]["events"] == 0
    assert document["configs"][1]["proposals"]["chain_hash"] == ""
    assert document["totals"]["proposal_events"] == 12
    assert verify_history(bot) is None
    report = check_history(bot)
    assert (report.ok, report.events, report.event_chain_hash) == (True, 12, last.chain_hash)


@pytest.mark.django_db
def test_an_apply_that_wrote_nothing_names_the_version_that_held_its_config():
    bot = reviewed("alpha")
    applied = json.loads(events_of(bot)[11].data)
    assert (applied["version"], applied["merged_onto"]) == (3, None)
    assert bot.versions.get(version=3).metadata["proposal"] == 1  # not 4: nothing written
    assert check_history(bot).ok


@pytest.mark.django_db
def test_a_change_of_the_review_policy_is_not_a_break():
    """Summary rows are written under the policy of their day; a stricter one since
    changes what the events add up to, not what was recorded."""
    bot = reviewed("alpha")
    stricter = {"labels": ["production"], "required_approvals": 2, "allow_self_approval": True}
    with override_settings(CONFIG_VERSIONS={"LABELS": LABELS, "REVIEW": stricter}):
        assert bot.version_manager.get_proposal(2).status == "open"
        assert BotConfigProposal.objects.get(bot_config=bot, number=2).status == "approved"
        assert check_history(bot).ok


# Every break in the events -------------------------------------------------------------------


@tampering
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data", '{"decision":"approve","comment":"ok","revision":1}'),
        ("data", '{"decision":"approve","comment":"OK","revision":2}'),
        ("kind", "withdrawn"),
        ("actor", "mallory"),
        ("actor", None),
        ("timestamp", 1.0),
        ("proposal", 3),
        ("chain_hash", "0" * 64),
    ],
)
def test_an_edited_event_is_one_break_naming_config_sequence_and_proposal(column, value):
    reviewed("alpha")
    reviewed("intact")
    set_event(BotConfig.objects.get(slug="alpha"), 7, **{column: value})
    out, message = verify_failing()
    proposal = value if column == "proposal" else 2
    assert message == "History broken: 1 break(s) in 1 config(s): alpha."
    assert "alpha: 3 version(s), 2 label move(s), 12 proposal event(s), 1 break(s):" in out
    assert f"  proposal event 7 (proposal {proposal}): {CHAIN_MISMATCH}" in out
    assert "intact: 3 version(s) intact; 2 label move(s) intact; 12 proposal event(s)" in out
    document = verify_json(failing=True)
    alpha = document["configs"][0]
    assert (alpha["ok"], alpha["breaks"], alpha["label_moves"]["breaks"]) == (False, [], [])
    assert alpha["proposals"]["breaks"] == [
        {"sequence": 7, "proposal": proposal, "problem": CHAIN_MISMATCH}
    ]
    assert (document["totals"]["breaks"], document["totals"]["broken"]) == (1, 1)
    found = verify_history(BotConfig.objects.get(slug="alpha"))
    assert isinstance(found, ProposalBreak)
    assert str(found) == f"alpha: proposal event 7 (proposal {proposal}): {CHAIN_MISMATCH}"


@tampering
def test_independent_edits_each_show():
    bot = reviewed("alpha")
    set_event(bot, 2, actor="mallory")
    set_event(bot, 9, timestamp=2.0)
    assert event_breaks("alpha") == [(2, 1, CHAIN_MISMATCH), (9, 3, CHAIN_MISMATCH)]


@tampering
def test_data_that_is_not_json_or_not_as_the_app_writes_it():
    bot = reviewed("alpha")
    set_event(bot, 5, data='{"decision": "reject", ')
    assert event_breaks("alpha") == [(5, 2, "its data is not JSON")]
    # The same data in other text (spaces): the chain holds, but no store wrote it so.
    original = events_of(reviewed("beta"))[4].data
    beta = BotConfig.objects.get(slug="beta")
    set_event(beta, 5, data=json.dumps(json.loads(original), indent=1))
    assert event_breaks("beta") == [
        (
            5,
            2,
            "its data is not the JSON text the app writes (compact, keys as written): it was "
            "written outside the app",
        )
    ]


@tampering
def test_a_missing_event_is_one_break():
    bot = reviewed("alpha")
    delete_events(bot, only=5)
    assert event_breaks("alpha") == [(5, None, "missing (found 6 next)")]
    out, _ = verify_failing()
    assert "  proposal event 5: missing (found 6 next)" in out
    delete_events(bot, only=6)
    assert event_breaks("alpha") == [(5, None, "missing, up to proposal event 6 (found 7 next)")]


@tampering
def test_a_missing_submission_hides_no_later_proposal():
    bot = reviewed("alpha")
    delete_events(bot, only=1)
    set_summary(bot, 1, reason="not judged")  # its events are not all there
    set_summary(bot, 2, reason="judged")
    # Proposal 1's later steps cannot be judged (their submission is gone), nor its
    # summary; proposals submitted after the gap are judged as ever.
    assert event_breaks("alpha") == [
        (1, None, "missing (found 2 next)"),
        (
            None,
            2,
            "its summary row does not match its events: reason 'judged' (its events: 'With "
            "a tool')",
        ),
    ]


@tampering
def test_after_a_broken_event_what_it_cannot_explain_still_shows():
    bot = reviewed("alpha")
    set_event(bot, 5, actor="mallory")
    review = {"decision": "approve", "comment": "", "revision": 1}
    # Event 5 no longer says what it recorded: it may have submitted one proposal (5,
    # the next number), so a step of 5 is not judged; one of 9 is.
    forge(bot, "reviewed", 5, "mallory", review)
    ninth = forge(bot, "reviewed", 9, "mallory", review)
    row = BotConfigProposal.objects.get(bot_config=bot, number=2)
    row.pk, row.number = None, 9
    row.save()
    assert event_breaks("alpha") == [
        (5, 2, CHAIN_MISMATCH),
        (ninth, 9, "a step of proposal 9, which was never submitted"),
        (
            None,
            9,
            "its summary row (status 'approved') names a proposal no event records: its "
            "events were cut from the end, or the row was written outside the app",
        ),
    ]


@tampering
def test_reordered_events_are_reported():
    bot = reviewed("alpha")
    swap_events(bot, 5, 6)
    assert event_breaks("alpha") == [
        (5, 2, CHAIN_MISMATCH),
        (6, 2, CHAIN_MISMATCH),
        (7, 2, CHAIN_MISMATCH),
    ]


@tampering
def test_events_cut_from_the_end_leave_a_summary_no_event_records():
    bot = reviewed("alpha")
    delete_events(bot, above=9)  # proposal 4, whole
    assert event_breaks("alpha") == [
        (
            None,
            4,
            "its summary row (status 'applied') names a proposal no event records: its events "
            "were cut from the end, or the row was written outside the app",
        )
    ]
    out, _ = verify_failing()
    assert "  proposal 4: its summary row (status 'applied') names a proposal" in out


# Re-chained and forged events: steps no manager writes ----------------------------------


FORGED: list[tuple[str, str, int, str | None, dict[str, Any], str]] = [
    (
        "a review of a proposal never submitted",
        "reviewed",
        9,
        "mallory",
        {"decision": "approve", "comment": "", "revision": 1},
        "a step of proposal 9, which was never submitted",
    ),
    (
        "an approval of an older revision",
        "reviewed",
        2,
        "mallory",
        {"decision": "approve", "comment": "", "revision": 1},
        "reviews revision 1, but revision 2 was current",
    ),
    (
        "a step after a withdrawal",
        "reviewed",
        3,
        "bo",
        {"decision": "approve", "comment": "", "revision": 1},
        "a step of proposal 3 after it was withdrawn (event 9)",
    ),
    (
        "a step after an apply",
        "withdrawn",
        1,
        "bo",
        {"reason": ""},
        "a step of proposal 1 after it was applied as version 3 (event 3)",
    ),
    (
        "a revision by someone else",
        "revised",
        2,
        "mallory",
        {"config": {"a": 1}, "base_version": 3, "reason": ""},
        "revised by 'mallory', but only its author ('cy') may revise a proposal",
    ),
    (
        "a submission out of order",
        "submitted",
        7,
        "ana",
        {"config": {"a": 1}, "base_version": 1, "reason": "", "label": None},
        "submits proposal 7, but the last proposal submitted was 4: proposals are numbered "
        "1, 2, 3 ... as submitted",
    ),
    (
        "a submission again",
        "submitted",
        2,
        "ana",
        {"config": {"a": 1}, "base_version": 1, "reason": "", "label": None},
        "submits proposal 2 again",
    ),
    (
        "an unknown kind",
        "merged",
        2,
        "ana",
        {},
        "its kind 'merged' is none a manager writes (submitted, revised, reviewed, "
        "withdrawn, applied)",
    ),
    (
        "proposal 0",
        "reviewed",
        0,
        "ana",
        {"decision": "approve", "comment": "", "revision": 1},
        "names no proposal number (0)",
    ),
    (
        "a key no manager writes",
        "reviewed",
        2,
        "dee",
        {"decision": "approve", "comment": "", "revision": 2, "approvers": ["x"]},
        "its reviewed data has 'approvers', which a manager never writes",
    ),
    (
        "a key missing",
        "reviewed",
        2,
        "dee",
        {"decision": "approve", "revision": 2},
        "its reviewed data has no 'comment'",
    ),
    (
        "a decision no manager writes",
        "reviewed",
        2,
        "dee",
        {"decision": "maybe", "comment": "", "revision": 2},
        "its reviewed data's decision is not approve or reject: 'maybe'",
    ),
    (
        "a base version not held",
        "submitted",
        5,
        "ana",
        {"config": {"a": 1}, "base_version": 4, "reason": "", "label": None},
        "its submitted data's base_version is not a version the history holds (it has 3): 4",
    ),
    (
        "a label that never moves",
        "submitted",
        5,
        "ana",
        {"config": {"a": 1}, "base_version": 1, "reason": "", "label": "latest"},
        "its submitted data's label is not a label that moves: 'latest'",
    ),
]


@tampering
@pytest.mark.parametrize(
    ("case", "kind", "proposal", "actor", "data", "problem"),
    FORGED,
    ids=[f[0] for f in FORGED],
)
def test_a_forged_event_is_a_step_no_manager_writes(case, kind, proposal, actor, data, problem):
    bot = reviewed("alpha")
    sequence = forge(bot, kind, proposal, actor, data)
    expected = proposal if proposal >= 1 else None
    assert event_breaks("alpha") == [(sequence, expected, problem)]
    out, message = verify_failing()
    assert message == "History broken: 1 break(s) in 1 config(s): alpha."
    where = f"proposal event {sequence}" + (f" (proposal {expected})" if expected else "")
    assert f"  {where}: {problem}" in out


def _apply_data(**changes: Any) -> dict[str, Any]:
    return {
        "version": 4,
        "revision": 2,
        "label": None,
        "label_move": None,
        "approvers": ["bo"],
        "merged_onto": None,
        **changes,
    }


FORGED_APPLIES = [
    (
        "names an older revision",
        {"revision": 1},
        "applies revision 1, but revision 2 was current",
    ),
    (
        "moves a label the proposal does not name",
        {"label": "production", "label_move": 2},
        "moves label 'production', but the proposal names None",
    ),
    (
        "approvers the reviews do not give",
        {"approvers": ["bo", "mallory"]},
        "records the approvers ['bo', 'mallory'], but the reviews of revision 2 approve ['bo']",
    ),
    (
        "merged onto its own base",
        {"merged_onto": 3},
        "says it merged onto version 3, which is not newer than its base 3",
    ),
    (
        "a version after the next",
        {"version": 2},
        "applies it as version 2, but a proposal made from version 3 becomes version 4 (or "
        "stays at 3, when that version already holds what it would write)",
    ),
    (
        "merged onto a version it cannot follow",
        {"version": 3, "merged_onto": 4},
        "applies it as version 3, but a proposal made from version 3 and merged onto version "
        "4 becomes version 5 (or stays at 4, when that version already holds what it would "
        "write)",
    ),
    (
        "a version not held",
        {"version": 9},
        "its applied data's version is not a version the history holds (it has 4): 9",
    ),
    (
        "a version another proposal wrote",
        {"version": 3},
        "applies it as version 3, whose metadata names proposal 1, and which does not hold "
        "what applying it would have written",
    ),
    (
        "a version written directly",
        {},
        "applies it as version 4, whose metadata names no proposal, and which does not hold "
        "what applying it would have written",
    ),
    (
        "a label move that does not exist",
        {"label_move": 7},
        "records label move 7, but the proposal moves no label",
    ),
]


@tampering
@pytest.mark.parametrize(
    ("case", "changes", "problem"), FORGED_APPLIES, ids=[f[0] for f in FORGED_APPLIES]
)
def test_a_forged_apply_is_refused_by_what_it_claims(case, changes, problem):
    bot = reviewed("alpha")
    bot.version_manager.save({"written": "directly"}, "not by a proposal", created_by="eve")
    sequence = forge(bot, "applied", 2, "mallory", _apply_data(**changes))
    assert event_breaks("alpha") == [(sequence, 2, problem)]


@tampering
def test_a_forged_apply_that_is_a_valid_step_shows_in_the_summary():
    """An apply written outside the app, consistent with everything recorded (the newest
    version already holds what it would write): only the summary row, which the app
    rewrites with each step, and signatures, tell."""
    bot = reviewed("alpha")
    manager = bot.version_manager
    manager.save(manager.get_proposal(2).config, "the same, directly", created_by="eve")
    forge(bot, "applied", 2, "mallory", _apply_data(version=4, merged_onto=4))
    [(sequence, number, problem)] = event_breaks("alpha")
    assert (sequence, number) == (None, 2)
    assert problem.startswith(
        "its summary row does not match its events: applied_version None (its events: 4); "
        "updated_at "
    )
    assert "status 'approved' with 1 approval(s) (its events: 'applied' with 1" in problem


@tampering
def test_a_forged_apply_of_a_rejected_or_unapproved_proposal():
    bot = reviewed("alpha")
    manager = bot.version_manager
    manager.propose({**BASE, "x": 1}, 3, "five", created_by="ana")  # 13
    manager.review_proposal(5, "reject", "bo", "no")  # 14
    manager.propose({**BASE, "x": 2}, 3, "six", created_by="ana")  # 15
    data = {**_apply_data(version=3, revision=1), "approvers": []}
    rejected = forge(bot, "applied", 5, "mallory", data)
    assert event_breaks("alpha") == [
        (rejected, 5, "applies it without an approval of revision 1"),
    ]
    lone = forge(bot, "applied", 6, "mallory", data)
    assert event_breaks("alpha")[-1] == (lone, 6, "applies it without an approval of revision 1")


@tampering
def test_an_apply_over_a_rejection_is_refused():
    bot = reviewed("alpha")
    manager = bot.version_manager
    manager.propose({**BASE, "x": 1}, 3, "five", created_by="ana")
    manager.review_proposal(5, "approve", "bo")
    manager.review_proposal(5, "reject", "cy", "no")
    sequence = forge(bot, "applied", 5, "mallory", _apply_data(version=3, revision=1))
    assert event_breaks("alpha") == [(sequence, 5, "applies it, though cy rejected revision 1")]


@tampering
def test_an_apply_whose_label_move_is_another():
    bot = reviewed("alpha")
    manager = bot.version_manager
    manager.propose({**BASE, "x": 1}, 3, "five", created_by="ana", label="production")
    manager.review_proposal(5, "approve", "bo")
    manager.save({**BASE, "x": 1}, "the same, directly", created_by="eve")  # v4
    manager.set_label("staging", 4, created_by="eve")  # move 3
    # Merged onto v4, which holds what it would write: nothing written, version 4.
    data = _apply_data(version=4, revision=1, label="production", merged_onto=4)
    sequence = forge(bot, "applied", 5, "mallory", {**data, "label_move": 3})
    assert event_breaks("alpha") == [
        (
            sequence,
            5,
            "records label move 3, which moved 'staging' to version 4, not 'production' to "
            "version 4",
        )
    ]
    other = reviewed("beta")
    other.version_manager.propose({**BASE, "x": 1}, 3, "five", created_by="ana", label="production")
    other.version_manager.review_proposal(5, "approve", "bo")
    other.version_manager.save({**BASE, "x": 1}, "the same, directly", created_by="eve")
    sequence = forge(other, "applied", 5, "mallory", {**data, "label_move": 9})
    assert event_breaks("beta") == [
        (sequence, 5, "records label move 9, which the label moves do not hold")
    ]


@tampering
def test_a_rechained_apply_is_caught_by_its_version():
    bot = reviewed("alpha")
    # Proposal 1 "approved by mallory": every hash recomputed, the chain holds.
    rechain_events(
        bot,
        3,
        lambda event: ProposalEvent(
            **{**vars(event), "data": {**event.data, "approvers": ["mallory"]}}
        ),
    )
    assert event_breaks("alpha") == [
        (
            3,
            1,
            "records the approvers ['mallory'], but the reviews of revision 1 approve ['bo']",
        )
    ]


@tampering
def test_a_rechained_review_is_caught_by_the_summary():
    bot = reviewed("alpha")
    # Proposal 2's approval turned into a rejection, re-chained: a valid step, but the
    # summary row still says what the manager wrote.
    rechain_events(
        bot,
        7,
        lambda event: ProposalEvent(
            **{**vars(event), "data": {**event.data, "decision": "reject"}}
        ),
    )
    assert event_breaks("alpha") == [
        (
            None,
            2,
            "its summary row does not match its events: status 'approved' with 1 approval(s) "
            "(its events: 'rejected' with 0 under the REVIEW setting, and no review policy "
            "gives the row's)",
        )
    ]


# Summary rows ------------------------------------------------------------------------------


SUMMARY_EDITS = [
    ("status", "applied", "status 'applied' with 1 approval(s) (its events: 'approved' with 1"),
    ("status", "rejected", "status 'rejected' with 1 approval(s)"),
    ("approvals", 3, "status 'approved' with 3 approval(s)"),
    ("approvals", 0, "status 'approved' with 0 approval(s)"),
    ("revision", 1, "revision 1 (its events: 2)"),
    ("author", "mallory", "author 'mallory' (its events: 'cy')"),
    ("author", None, "author None (its events: 'cy')"),
    ("label", "production", "label 'production' (its events: None)"),
    ("base_version", 1, "base_version 1 (its events: 3)"),
    ("reason", "quiet", "reason 'quiet' (its events: 'With a tool')"),
    ("applied_version", 3, "applied_version 3 (its events: None)"),
]


@tampering
@pytest.mark.parametrize(("column", "value", "problem"), SUMMARY_EDITS)
def test_an_edited_summary_row_names_config_and_proposal(column, value, problem):
    bot = reviewed("alpha")
    reviewed("intact")
    set_summary(bot, 2, **{column: value})
    out, message = verify_failing()
    assert message == "History broken: 1 break(s) in 1 config(s): alpha."
    assert "  proposal 2: its summary row does not match its events: " in out
    assert problem in out
    [found] = verify_json(failing=True)["configs"][0]["proposals"]["breaks"]
    assert (found["sequence"], found["proposal"]) == (None, 2)
    assert found["problem"].startswith("its summary row does not match its events: ")
    assert str(verify_history(bot)).startswith("alpha: proposal 2: its summary row does not")


@tampering
def test_summary_times_and_a_closed_proposal():
    bot = reviewed("alpha")
    row = BotConfigProposal.objects.get(bot_config=bot, number=1)
    set_summary(bot, 1, updated_at=row.created_at, status="approved")
    [(sequence, number, problem)] = event_breaks("alpha")
    assert (sequence, number) == (None, 1)
    assert f"updated_at {row.created_at.isoformat()} (its events: " in problem
    assert "status 'approved' with 1 approval(s) (its events: 'applied' with 1" in problem


@tampering
def test_a_missing_or_invented_summary_row():
    bot = reviewed("alpha")
    qn = connection.ops.quote_name
    sql(
        f"DELETE FROM {qn(SUMMARIES)} WHERE {qn('bot_config_id')} = %s AND {qn('number')} = 3",
        [bot.pk],
    )
    assert event_breaks("alpha") == [
        (None, 3, "it has no summary row, though its events record it")
    ]
    row = BotConfigProposal.objects.get(bot_config=bot, number=2)
    row.pk, row.number = None, 9
    row.save()
    assert event_breaks("alpha")[-1] == (
        None,
        9,
        "its summary row (status 'approved') names a proposal no event records: its events "
        "were cut from the end, or the row was written outside the app",
    )


@tampering
def test_summaries_are_not_judged_where_the_events_are_broken():
    """One edit shows once: an edited event's proposal is not also reported for its
    summary, nor are proposals whose steps an event missing may have been."""
    bot = reviewed("alpha")
    set_event(bot, 7, actor="mallory")
    set_summary(bot, 2, reason="also edited")
    assert event_breaks("alpha") == [(7, 2, CHAIN_MISMATCH)]


@pytest.mark.django_db(transaction=True)
def test_verification_while_proposals_are_made_sees_no_break():
    """A summary is rewritten with each step; the check counts the events first, and a
    summary ahead of that count is not a break."""
    bot = reviewed("alpha")
    done = threading.Event()
    failures: list[BaseException] = []

    @in_thread
    def work() -> None:
        try:
            manager = BotConfig.objects.get(pk=bot.pk).version_manager
            for n in range(8):
                found = manager.propose({**BASE, "n": n}, 3, f"n={n}", created_by="ana")
                manager.review_proposal(found.id, "approve", "bo")
                manager.review_proposal(found.id, "reject", "cy")
                manager.withdraw_proposal(found.id, "ana")
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=work)
    thread.start()
    reports = []
    while not done.is_set():
        reports.append(check_history(BotConfig.objects.get(pk=bot.pk)))
    thread.join()
    reports.append(check_history(BotConfig.objects.get(pk=bot.pk)))
    assert not failures, failures
    assert all(r.ok for r in reports), [str(b) for r in reports for b in r.all_breaks][:3]
    assert reports[-1].events == 12 + 8 * 4


# Signatures ------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS=SIGNED)
def test_the_store_signs_events_and_verification_counts_them():
    bot = reviewed("signed")
    for row in events_of(bot):
        assert row.signature == sign_chain_hash(KEY, row.chain_hash)
    assert "12 proposal event(s) of 4 proposal(s) intact, 12 signed." in verify()
    signatures = verify_json()["configs"][0]["proposals"]["signatures"]
    assert signatures == {
        "checked": True,
        "signed": 12,
        "covered": 0,
        "unsigned": 0,
        "missing": 0,
        "bad": 0,
    }
    assert verify_history(bot) is None


@tampering
def test_signatures_catch_rechained_events():
    with override_settings(CONFIG_VERSIONS=SIGNED):
        bot = reviewed("victim")
        rechain_events(
            bot,
            10,
            lambda event: ProposalEvent(**{**vars(event), "data": {**event.data, "reason": "x"}}),
        )
        out, _ = verify_failing()
        assert "  proposal event signatures: 9 signed, 3 bad signature(s)" in out
        breaks = event_breaks("victim")
        assert [(b[0], b[2]) for b in breaks if b[0] is not None] == [
            (
                n,
                "its signature does not match its chain hash: re-chained, or signed with "
                "another key",
            )
            for n in (10, 11, 12)
        ]
    # Without the key the chain looks intact (it was recomputed), but proposal 4's
    # summary still has the reason recorded.
    assert event_breaks("victim") == [
        (
            None,
            4,
            "its summary row does not match its events: reason 'Nothing new' (its events: 'x')",
        )
    ]


@tampering
def test_a_forged_event_is_unsigned_after_signed_ones():
    with override_settings(CONFIG_VERSIONS=SIGNED):
        bot = reviewed("alpha")
        sequence = forge(bot, "withdrawn", 2, "cy", {"reason": "quietly"})
        assert (
            sequence,
            2,
            "no signature, though proposal event 12 before it is signed: written without "
            "the signing key, or outside the app",
        ) in event_breaks("alpha")
        sign_events(bot, key="o" * 40)
        out, _ = verify_failing()
        assert out.count("its signature does not match its chain hash") == 13


# Checkpoints ---------------------------------------------------------------------------------


@tampering
def test_a_checkpoint_records_events_and_catches_events_cut_from_the_end(tmp_path):
    bot = reviewed("short")
    path = tmp_path / "cp.json"
    verify(write_checkpoint=str(path))
    [entry] = json.loads(path.read_text())["configs"]
    last = events_of(bot)[-1]
    assert (entry["proposal_events"], entry["proposal_chain_hash"]) == (12, last.chain_hash)
    assert (entry["label_moves"], entry["version"]) == (2, 3)
    assert "1 config(s) compared" in verify(against=str(path))

    delete_events(bot, above=9)
    BotConfigProposal.objects.filter(bot_config=bot, number=4).delete()  # a thorough cut
    assert "short: 3 version(s) intact; 2 label move(s) intact; 9 proposal event(s)" in verify()
    out, message = verify_failing(against=str(path))
    assert (
        "  proposal event 12: the checkpoint recorded 12 proposal event(s), the events now "
        "end at 9: events were cut from their end" in out
    )
    assert message == "History broken: 1 break(s) in 1 config(s): short."
    checkpoint = verify_json(against=str(path), failing=True)["configs"][0]["checkpoint"]
    assert (checkpoint["matches"], checkpoint["proposal_events"]) == (False, 12)


@tampering
def test_a_checkpoint_catches_rechained_events(tmp_path):
    bot = reviewed("rewritten")
    path = tmp_path / "cp.json"
    verify(write_checkpoint=str(path))
    rechain_events(
        bot,
        5,
        lambda event: ProposalEvent(**{**vars(event), "data": {**event.data, "comment": ""}}),
    )
    assert "rewritten: 3 version(s) intact; 2 label move(s) intact; 12 proposal" in verify()
    out, _ = verify_failing(against=str(path))
    assert (
        "  proposal event 12 (proposal 4): its chain hash differs from the checkpoint's: the "
        "proposal events up to here were rewritten and re-chained" in out
    )


@pytest.mark.django_db
def test_events_since_a_checkpoint_and_checkpoints_written_before_them(tmp_path):
    bot = reviewed("grows")
    path = tmp_path / "cp.json"
    verify(write_checkpoint=str(path))
    bot.version_manager.withdraw_proposal(2, "cy")
    assert "13 proposal event(s) of 4 proposal(s) intact." in verify(against=str(path))
    document = json.loads(path.read_text())
    for entry in document["configs"]:
        del entry["proposal_events"], entry["proposal_chain_hash"]
    path.write_text(json.dumps(document))
    assert read_checkpoint(str(path), key=None).marks[bot.pk].events is None
    checkpoint = verify_json(against=str(path))["configs"][0]["checkpoint"]
    assert (checkpoint["matches"], checkpoint["proposal_events"]) == (True, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [
        {"proposal_events": 2},
        {"proposal_chain_hash": ""},
        {"proposal_events": -1, "proposal_chain_hash": ""},
        {"proposal_events": True, "proposal_chain_hash": "a" * 64},
        {"proposal_events": 2, "proposal_chain_hash": "short"},
        {"proposal_events": 0, "proposal_chain_hash": "a" * 64},
        {"proposal_events": 2, "proposal_chain_hash": None},
    ],
)
def test_a_checkpoint_with_bad_proposal_keys_is_refused(tmp_path, extra):
    reviewed("alpha")
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
def test_a_signed_checkpoint_covers_the_events(tmp_path):
    path = tmp_path / "cp.json"
    with override_settings(CONFIG_VERSIONS=SIGNED):
        reviewed("alpha")
        verify(write_checkpoint=str(path))
        document = json.loads(path.read_text())
        document["configs"][0]["proposal_events"] = 11
        path.write_text(json.dumps(document))
        with pytest.raises(CommandError, match="was edited: its signature does not match"):
            verify(against=str(path))


# The database keeps events as written; purge removes proposals ---------------------------


@tampering
def test_the_database_refuses_to_change_or_delete_an_event():
    bot = reviewed("alpha")
    before = list(BotConfigProposalEvent.objects.values_list().order_by("pk"))
    qn = connection.ops.quote_name
    for statement in (
        f"UPDATE {qn(EVENTS)} SET {qn('data')} = '{{}}' WHERE {qn('sequence')} = 7",
        f"UPDATE {qn(EVENTS)} SET {qn('actor')} = 'x'",
        f"DELETE FROM {qn(EVENTS)} WHERE {qn('sequence')} = 12",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert list(BotConfigProposalEvent.objects.values_list().order_by("pk")) == before
    assert verify_history(bot) is None


@tampering
def test_purge_removes_proposals_and_their_events():
    bot = reviewed("gone")
    kept = reviewed("kept")
    tombstone = purge_history(bot, by="ana", reason="asked to")
    assert not BotConfigProposalEvent.objects.filter(bot_config_id=bot.pk).exists()
    assert not BotConfigProposal.objects.filter(bot_config_id=bot.pk).exists()
    assert not BotConfigVersion.objects.filter(bot_config_id=bot.pk).exists()
    assert not BotConfigLabelMove.objects.filter(bot_config_id=bot.pk).exists()
    assert BotConfigProposalEvent.objects.filter(bot_config=kept).count() == 12
    assert BotConfigProposal.objects.filter(bot_config=kept).count() == 4
    assert PurgedConfig.objects.get().pk == tombstone.pk
    out = verify()
    assert "Purged: gone, 3 version(s), by ana" in out
    assert "kept: 3 version(s) intact; 2 label move(s) intact; 12 proposal event(s) of 4" in out
