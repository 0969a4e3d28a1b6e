"""The review rules in the framework-free manager (issue 14): every transition and every
refusal of a proposal, in memory, with no Django."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_versions.core.errors import (
    InvalidConfigError,
    MergeConflictError,
    ProposalError,
    ProposalNotFoundError,
    ProposalStateError,
    ReviewRefusedError,
    ReviewRequiredError,
    UnknownLabelError,
    VersionNotFoundError,
)
from config_versions.core.events import LabelMoved, ProposalRecorded, VersionWritten
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.proposals import (
    APPLIED,
    APPROVED,
    OPEN,
    REJECTED,
    WITHDRAWN,
    ReviewPolicy,
    fold,
)

BASE = {"model": "gpt-4", "prompt": "Be kind.", "tools": ["search"], "limits": {"tokens": 500}}


def manager(**policy: Any) -> ConfigVersionManager:
    clock = itertools.count(1_700_000_000)
    m = ConfigVersionManager(
        clock=lambda: float(next(clock)),
        labels=["staging", "production"],
        review=ReviewPolicy(**{"labels": frozenset({"production"}), **policy}),
    )
    m.create(BASE, created_by="ann")
    return m


def edited(**changes: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(BASE)), **changes}


def test_submit_opens_a_proposal_and_writes_no_version():
    m = manager()
    p = m.propose(edited(model="claude"), 1, "Try Claude", created_by="bob", label="production")
    assert (p.id, p.status, p.author, p.label, p.base_version) == (1, OPEN, "bob", "production", 1)
    assert p.revision.number == 1
    assert p.config == edited(model="claude")
    assert len(m) == 1
    assert m.proposals() == [p]
    assert m.proposals(status=APPROVED) == []
    assert p.events[0].sequence == 1
    assert p.events[0].chain_hash


def test_an_approval_of_someone_else_approves_and_apply_writes_the_version_and_moves_the_label():
    m = manager()
    m.propose(edited(model="claude"), 1, "Try Claude", created_by="bob", label="production")
    approved = m.review_proposal(1, "approve", "cat", comment="Looks good")
    assert approved.status == APPROVED
    assert approved.approvers == ("cat",)
    applied = m.apply_proposal(1, applied_by="dan")
    assert applied.version.version == 2
    assert applied.version.config == edited(model="claude")
    assert applied.version.reason == "Try Claude"
    assert applied.version.created_by == "dan"
    assert applied.version.metadata == {"proposal": 1, "revision": 1, "approvers": ["cat"]}
    assert applied.merged_onto is None
    assert applied.move is not None
    assert (applied.move.label, applied.move.to_version) == ("production", 2)
    assert m.get_label("production") == 2
    assert applied.proposal.status == APPLIED
    assert applied.proposal.applied_version == 2
    assert applied.proposal.closed_by == "dan"
    assert m.get_proposal(1).status == APPLIED


def test_self_approval_is_refused_unless_the_policy_allows_it():
    m = manager()
    m.propose(edited(model="claude"), 1, created_by="bob")
    with pytest.raises(ReviewRefusedError, match="someone else"):
        m.review_proposal(1, "approve", "bob")
    assert m.get_proposal(1).reviews == ()
    allowed = manager(allow_self_approval=True)
    allowed.propose(edited(model="claude"), 1, created_by="bob")
    assert allowed.review_proposal(1, "approve", "bob").status == APPROVED


def test_a_rejection_stands_until_the_rejecter_changes_their_mind_or_a_new_revision():
    m = manager(required_approvals=2)
    m.propose(edited(model="claude"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    rejected = m.review_proposal(1, "reject", "dan", comment="Too expensive")
    assert rejected.status == REJECTED
    assert rejected.rejecters == ("dan",)
    with pytest.raises(ProposalStateError, match="rejected by dan"):
        m.apply_proposal(1)
    # dan changes his mind: his later review replaces the earlier one.
    assert m.review_proposal(1, "approve", "dan").status == APPROVED
    m.review_proposal(1, "reject", "dan")
    revised = m.revise(1, edited(model="claude-haiku"), 1, "Cheaper", created_by="bob")
    assert revised.status == OPEN
    assert revised.approvers == ()
    assert revised.rejecters == ()
    assert [r.number for r in revised.revisions] == [1, 2]


def test_required_approvals_count_distinct_reviewers():
    m = manager(required_approvals=2)
    m.propose(edited(model="claude"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    again = m.review_proposal(1, "approve", "cat")
    assert again.status == OPEN
    assert again.approvers == ("cat",)
    with pytest.raises(ProposalStateError, match="needs 2 approval"):
        m.apply_proposal(1)
    assert m.review_proposal(1, "approve", "dan").status == APPROVED


def test_a_revision_clears_approvals_and_an_approval_of_the_older_revision_is_refused():
    m = manager()
    m.propose(edited(model="claude"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat", revision=1)
    revised = m.revise(1, edited(model="claude", prompt="Be brief."), 1, created_by="bob")
    assert revised.status == OPEN
    assert revised.approvers == ()
    with pytest.raises(ProposalStateError, match="revision 1 is no longer current"):
        m.review_proposal(1, "approve", "cat", revision=1)
    with pytest.raises(ProposalStateError):
        m.apply_proposal(1)
    assert m.review_proposal(1, "approve", "cat", revision=2).status == APPROVED
    applied = m.apply_proposal(1)
    assert applied.version.config["prompt"] == "Be brief."
    assert applied.version.metadata["revision"] == 2
    # Every revision is kept.
    assert [r.config["prompt"] for r in applied.proposal.revisions] == ["Be kind.", "Be brief."]


def test_only_the_author_revises():
    m = manager()
    m.propose(edited(model="claude"), 1, created_by="bob")
    with pytest.raises(ReviewRefusedError, match="Only the author"):
        m.revise(1, edited(model="x"), 1, created_by="cat")
    assert len(m.get_proposal(1).revisions) == 1


def test_double_apply_and_steps_after_the_close_are_refused():
    m = manager()
    m.propose(edited(model="claude"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    m.apply_proposal(1)
    for step in (
        lambda: m.apply_proposal(1),
        lambda: m.review_proposal(1, "approve", "dan"),
        lambda: m.revise(1, BASE, 2, created_by="bob"),
        lambda: m.withdraw_proposal(1, by="bob"),
    ):
        with pytest.raises(ProposalStateError, match="applied as version 2"):
            step()
    assert len(m) == 2


def test_withdrawn_is_final():
    m = manager()
    m.propose(edited(model="claude"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    withdrawn = m.withdraw_proposal(1, by="bob", reason="Not needed")
    assert withdrawn.status == WITHDRAWN
    assert withdrawn.closed_by == "bob"
    with pytest.raises(ProposalStateError, match="withdrawn"):
        m.apply_proposal(1)
    with pytest.raises(ProposalStateError):
        m.review_proposal(1, "approve", "dan")
    assert len(m) == 1


def test_apply_after_the_config_moved_merges_clean_edits_onto_the_newest_version():
    m = manager()
    m.propose(edited(model="claude"), 1, "Model", created_by="bob", label="production")
    m.update(edited(prompt="Be brief."), created_by="ann")  # v2, another place
    m.review_proposal(1, "approve", "cat")
    preview = m.preview_proposal(1)
    assert preview.clean
    assert preview.onto_version == 2
    applied = m.apply_proposal(1, applied_by="cat")
    assert applied.version.version == 3
    assert applied.version.config == edited(model="claude", prompt="Be brief.")
    assert applied.merged_onto == 2
    assert applied.version.metadata["merged_onto"] == 2
    assert applied.version.metadata["merged_from"] == 1
    assert m.get_label("production") == 3


def test_apply_with_conflicts_names_every_pointer_and_writes_nothing():
    m = manager()
    proposal = edited(model="claude", limits={"tokens": 900})
    m.propose(proposal, 1, created_by="bob", label="production")
    m.update(edited(model="gpt-5", limits={"tokens": 100}), created_by="ann")
    m.review_proposal(1, "approve", "cat")
    assert m.preview_proposal(1).conflicts == ["/limits/tokens", "/model"]
    with pytest.raises(MergeConflictError) as caught:
        m.apply_proposal(1)
    assert caught.value.conflicts == ["/limits/tokens", "/model"]
    assert caught.value.actual_version == 2
    assert len(m) == 2
    assert m.get_label("production") is None
    assert m.get_proposal(1).status == APPROVED  # still waiting: revise it, or withdraw
    assert len(m.get_proposal(1).events) == 2


def test_apply_of_what_the_newest_version_already_holds_writes_no_version_but_moves_the_label():
    m = manager()
    m.propose(edited(model="claude"), 1, created_by="bob", label="production")
    m.update(edited(model="claude"), created_by="ann")  # someone made the same edit
    m.review_proposal(1, "approve", "cat")
    applied = m.apply_proposal(1)
    assert applied.version.unchanged
    assert applied.version.version == 2
    assert len(m) == 2
    assert m.get_label("production") == 2
    assert applied.proposal.applied_version == 2


def test_the_validators_run_when_proposing_and_again_when_applying():
    m = manager()
    refused: list[str] = []

    def no_gpt5(config: dict[str, Any]) -> None:
        if config.get("model") in refused:
            raise InvalidConfigError(f"model {config['model']} is not allowed", [("/model", "x")])

    m.validators.append(no_gpt5)
    refused.append("gpt-5")
    with pytest.raises(InvalidConfigError):
        m.propose(edited(model="gpt-5"), 1, created_by="bob")
    assert m.proposals() == []
    m.propose(edited(model="claude"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    refused.append("claude")  # the rules changed after the review
    with pytest.raises(InvalidConfigError):
        m.apply_proposal(1)
    assert len(m) == 1
    assert m.get_proposal(1).status == APPROVED


@pytest.mark.parametrize("base", [0, -1, True, "1", 1.0, None, 2])
def test_a_base_version_that_is_not_held_is_refused(base):
    m = manager()
    with pytest.raises(VersionNotFoundError):
        m.propose(edited(model="claude"), base, created_by="bob")
    assert m.proposals() == []


@pytest.mark.parametrize("config", [[], "x", None, {"a": float("nan")}, {"a": "\x00"}])
def test_a_config_that_cannot_be_a_version_cannot_be_proposed(config):
    m = manager()
    with pytest.raises(InvalidConfigError):
        m.propose(config, 1, created_by="bob")
    assert m.proposals() == []


def test_labels_and_other_bad_input():
    m = manager()
    with pytest.raises(UnknownLabelError):
        m.propose(BASE, 1, created_by="bob", label="canary")
    with pytest.raises(UnknownLabelError):
        m.propose(BASE, 1, created_by="bob", label="latest")
    m.propose(edited(model="é 🤖"), 1, "Ünïcode ✓", created_by="bøb")
    with pytest.raises(InvalidConfigError, match="decision"):
        m.review_proposal(1, "lgtm", "cat")
    with pytest.raises(InvalidConfigError):
        m.review_proposal(1, "approve", "cat", comment="x" * 10_001)
    for missing in (2, 0, "1", None, True):
        with pytest.raises(ProposalNotFoundError):
            m.get_proposal(missing)  # type: ignore[arg-type]
        with pytest.raises(ProposalNotFoundError):
            m.review_proposal(missing, "approve", "cat")  # type: ignore[arg-type]
    assert issubclass(ProposalNotFoundError, ProposalError)


def test_a_review_label_moves_only_through_a_proposal():
    m = manager()
    with pytest.raises(ReviewRequiredError) as caught:
        m.set_label("production", 1)
    assert caught.value.label == "production"
    assert m.set_label("staging", 1).to_version == 1  # not under review


def test_listeners_hear_each_step_in_order():
    heard: list[Any] = []
    m = manager()
    m.listeners.append(heard.append)
    m.propose(edited(model="claude"), 1, created_by="bob", label="production")
    m.review_proposal(1, "approve", "cat")
    m.apply_proposal(1)
    kinds = [e.event.kind if isinstance(e, ProposalRecorded) else type(e).__name__ for e in heard]
    assert kinds == ["submitted", "reviewed", "VersionWritten", "LabelMoved", "applied"]
    assert isinstance(heard[2], VersionWritten)
    assert isinstance(heard[3], LabelMoved)
    assert heard[-1].proposal.status == APPLIED


def test_the_record_round_trips_through_to_dict_and_refuses_an_edited_step():
    m = manager()
    m.propose(edited(model="claude", limits={"tokens": 1e16}), 1, "ü", created_by="bob")
    m.review_proposal(1, "reject", "cat", comment="no")
    m.revise(1, edited(model="claude", limits={"tokens": -0.0}), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    m.apply_proposal(1)
    m.propose(edited(model="x"), 2, created_by="cat")
    m.withdraw_proposal(2, by="cat")
    data = json.loads(json.dumps(m.to_dict()))
    policy = ReviewPolicy(labels=frozenset({"production"}))
    copy = ConfigVersionManager.from_dict(data, review=policy)
    assert copy.to_dict() == m.to_dict()
    assert [p.status for p in copy.proposals()] == [WITHDRAWN, APPLIED]
    first = copy.get_proposal(1).revisions[0].config["limits"]["tokens"]
    assert isinstance(first, float)
    assert first == 1e16

    for path, value in [
        (("proposal_events", 1, "data", "decision"), "approve"),
        (("proposal_events", 0, "actor"), "mallory"),
        (("proposal_events", 3, "timestamp"), 1.5),
    ]:
        forged = json.loads(json.dumps(data))
        node = forged
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        with pytest.raises(ValueError, match="chain hash"):
            ConfigVersionManager.from_dict(forged, review=policy)
    reordered = json.loads(json.dumps(data))
    events = reordered["proposal_events"]
    events[1], events[2] = events[2], events[1]
    with pytest.raises(ValueError, match="Proposal event 2"):
        ConfigVersionManager.from_dict(reordered, review=policy)
    orphan = json.loads(json.dumps(data))
    orphan["proposal_events"] = orphan["proposal_events"][1:]
    with pytest.raises(ValueError, match="never submitted"):
        ConfigVersionManager.from_dict(orphan, review=policy)
    late = json.loads(json.dumps(data))
    late["proposal_events"].append({**late["proposal_events"][1], "sequence": 0, "chain_hash": ""})
    with pytest.raises(ValueError, match="follows the close"):
        ConfigVersionManager.from_dict(late, review=policy)


def test_async_twins():
    async def flow() -> str:
        m = manager()
        await m.apropose(edited(model="claude"), 1, created_by="bob")
        await m.areview_proposal(1, "approve", "cat")
        applied = await m.aapply_proposal(1)
        return applied.proposal.status

    assert asyncio.run(flow()) == APPLIED


# A property: whatever people do, in whatever order, the record stays sound -------------

USERS = ["ann", "bob", "cat"]
KEYS = ["model", "prompt", "temperature"]
step = st.one_of(
    st.tuples(
        st.just("propose"),
        st.sampled_from(USERS),
        st.sampled_from(KEYS),
        st.integers(0, 3),
        st.booleans(),
    ),
    st.tuples(st.just("revise"), st.sampled_from(USERS), st.sampled_from(KEYS), st.integers(0, 3)),
    st.tuples(
        st.just("review"),
        st.sampled_from(USERS),
        st.sampled_from(["approve", "reject"]),
        st.integers(1, 4),
    ),
    st.tuples(st.just("apply"), st.sampled_from(USERS), st.integers(1, 4)),
    st.tuples(st.just("withdraw"), st.sampled_from(USERS), st.integers(1, 4)),
    st.tuples(st.just("update"), st.sampled_from(KEYS), st.integers(0, 3)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=25), st.integers(1, 2))
def test_any_sequence_of_steps_keeps_the_record_sound(steps, required):
    m = manager(required_approvals=required)
    applied: dict[int, tuple[int, bool]] = {}
    for action, *args in steps:
        current = m.current_config or {}
        try:
            if action == "propose":
                who, key, value, labelled = args
                head = m.current_version
                m.propose(
                    {**current, key: value},
                    max(1, head - 1) if value % 2 else head,
                    created_by=who,
                    label="production" if labelled else None,
                )
            elif action == "revise":
                who, key, value = args
                number = len(m.proposals()) or 1
                m.revise(number, {**current, key: value}, m.current_version, created_by=who)
            elif action == "review":
                who, decision, number = args
                m.review_proposal(number, decision, who)
            elif action == "apply":
                who, number = args
                result = m.apply_proposal(number, applied_by=who)
                applied[number] = (result.version.version, result.version.unchanged)
            elif action == "withdraw":
                who, number = args
                m.withdraw_proposal(number, by=who)
            else:
                key, value = args
                m.update({**current, key: value}, created_by="ann")
        except (ProposalError, MergeConflictError):
            pass
    proposals = {p.id: p for p in m.proposals()}
    for number, (version, unchanged) in applied.items():
        assert proposals[number].status == APPLIED
        assert proposals[number].applied_version == version
        written = m.get_version(version)
        assert written is not None
        # A version written by an apply names its proposal; an apply that found the
        # newest version already holding its config wrote none.
        assert unchanged or written.metadata["proposal"] == number
    for p in proposals.values():
        assert p.author not in p.approvers or m.review_policy.allow_self_approval
        if p.status == APPLIED:
            assert p.applied_version is not None
    # The record replays to the same proposals.
    copy = ConfigVersionManager.from_dict(
        json.loads(json.dumps(m.to_dict())), review=m.review_policy
    )
    replayed = copy._proposal_store().proposal_events()
    assert fold(replayed, m.review_policy) == fold(
        m._proposal_store().proposal_events(), m.review_policy
    )
    if m.get_label("production") is not None:
        moves = m.label_history("production")
        assert all(move.reason.startswith("Proposal ") for move in moves)


def test_apply_and_withdraw_of_a_revision_no_longer_current_are_refused():
    m = manager(allow_self_approval=False)
    m.propose(edited(model="claude"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    # bob revises and cat approves again, while dan's page still shows revision 1.
    m.revise(1, edited(model="claude-2"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    with pytest.raises(ProposalStateError, match="apply what it proposes now"):
        m.apply_proposal(1, applied_by="dan", revision=1)
    with pytest.raises(ProposalStateError, match="withdraw what it proposes now"):
        m.withdraw_proposal(1, by="dan", revision=1)
    assert len(m) == 1
    assert m.get_proposal(1).status == APPROVED
    assert m.apply_proposal(1, revision=2).version.config["model"] == "claude-2"


def test_a_proposal_that_edits_nothing_releases_its_base_version_even_after_newer_work():
    m = manager()
    m.update(edited(model="claude"), created_by="ann")  # v2
    m.propose(edited(model="claude"), 2, "Release v2", created_by="bob", label="production")
    m.update(edited(model="claude", prompt="unreviewed"), created_by="ann")  # v3
    m.review_proposal(1, "approve", "cat")
    preview = m.preview_proposal(1)
    assert (preview.onto_version, preview.merged) == (2, edited(model="claude"))
    applied = m.apply_proposal(1)
    assert applied.version.unchanged
    assert applied.version.version == 2
    assert m.get_label("production") == 2  # not v3, which nobody reviewed
    assert len(m) == 3
    assert applied.proposal.applied_version == 2


def _recorded_flow() -> dict[str, Any]:
    m = manager()
    m.propose(edited(model="claude"), 1, created_by="bob", label="production")
    m.review_proposal(1, "approve", "cat")
    m.revise(1, edited(model="claude-2"), 1, created_by="bob")
    m.review_proposal(1, "approve", "cat")
    m.apply_proposal(1, applied_by="dan")
    data: dict[str, Any] = json.loads(json.dumps(m.to_dict()))
    for event in data["proposal_events"]:  # forged files rechain: judge the steps alone
        event["chain_hash"] = ""
        event["sequence"] = 0
    return data


@pytest.mark.parametrize(
    ("index", "field", "value", "message"),
    [
        (2, "actor", "mallory", "not by its author"),
        (3, ("data", "revision"), 1, "no review of the current revision"),
        (4, ("data", "approvers"), ["mallory"], "without the approvals"),
        (4, ("data", "approvers"), [], "without the approvals"),
        (4, ("data", "revision"), 1, "without the approvals"),
        (4, ("data", "label"), "staging", "without the approvals"),
        (4, ("data", "version"), 9, "not held"),
    ],
)
def test_a_replayed_step_no_manager_could_have_written_is_refused(index, field, value, message):
    data = _recorded_flow()
    event = data["proposal_events"][index]
    if isinstance(field, tuple):
        event[field[0]][field[1]] = value
    else:
        event[field] = value
    with pytest.raises(ValueError, match=message):
        ConfigVersionManager.from_dict(data, review=ReviewPolicy(labels=frozenset({"production"})))


def test_a_replayed_record_with_no_forgery_loads():
    data = _recorded_flow()
    copy = ConfigVersionManager.from_dict(data, review=ReviewPolicy())
    assert copy.get_proposal(1).status == APPLIED
