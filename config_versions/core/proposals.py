"""Proposed changes with review: proposals, their revisions and reviews, as recorded events.

A proposal asks for a config (made from ``base_version``) to become a version, and
optionally for a label to move to it. Nothing about a proposal is ever rewritten: each
step is a :class:`ProposalEvent` (submitted, revised, reviewed, withdrawn, applied),
numbered per config and hash-chained like label moves, and a proposal's state is what
its events add up to (:func:`fold`). So the record of who proposed, approved and applied
what is evidence, verified and exported with the versions.

The rules of review (how many approvals, self-approval, which labels need review) are a
:class:`ReviewPolicy`; the manager applies them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from config_versions.core.jsondata import canonical_json, sha256_hex

# Statuses of a proposal.
OPEN = "open"
APPROVED = "approved"
REJECTED = "rejected"
APPLIED = "applied"
WITHDRAWN = "withdrawn"
STATUSES = (OPEN, APPROVED, REJECTED, APPLIED, WITHDRAWN)
# Statuses a proposal can still move on from (reviews, revisions, apply, withdraw).
ACTIVE = (OPEN, APPROVED, REJECTED)

# Kinds of events.
SUBMITTED = "submitted"
REVISED = "revised"
REVIEWED = "reviewed"
WITHDRAWN_EVENT = "withdrawn"
APPLIED_EVENT = "applied"
EVENT_KINDS = (SUBMITTED, REVISED, REVIEWED, WITHDRAWN_EVENT, APPLIED_EVENT)

# Decisions of a review.
APPROVE = "approve"
REJECT = "reject"
DECISIONS = (APPROVE, REJECT)

# The recorded fields of an event, in order: what stores keep, exports carry and the
# chain hash covers (with the previous event's chain hash).
EVENT_FIELDS = ("sequence", "proposal", "kind", "timestamp", "actor", "data")


@dataclass(frozen=True)
class ReviewPolicy:
    """The rules of review.

    ``required_approvals``: approvals of a proposal's current revision needed to apply
    it. ``allow_self_approval``: whether the author's own review counts (and is taken).
    ``labels``: labels that move only by applying an approved proposal.
    ``all_writes``: whether plain writes need a permission to bypass review (the
    site's layer checks it; the manager has no users).
    """

    required_approvals: int = 1
    allow_self_approval: bool = False
    labels: frozenset[str] = frozenset()
    all_writes: bool = False

    def __post_init__(self) -> None:
        approvals = self.required_approvals
        if isinstance(approvals, bool) or not isinstance(approvals, int) or approvals < 1:
            raise ValueError(f"required_approvals must be at least 1, not {approvals!r}")

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any]) -> ReviewPolicy:
        """A policy from a settings-like mapping; a value of the wrong type is left out
        (the default stands: the site's checks report it)."""
        defaults = cls()
        approvals = value.get("required_approvals", 1)
        if isinstance(approvals, bool) or not isinstance(approvals, int) or approvals < 1:
            approvals = defaults.required_approvals
        labels = value.get("labels", ())
        if not isinstance(labels, list | tuple | set | frozenset):
            labels = ()
        flags = {
            name: flag if isinstance(flag := value.get(name, default), bool) else default
            for name, default in (
                ("allow_self_approval", defaults.allow_self_approval),
                ("all_writes", defaults.all_writes),
            )
        }
        return cls(
            required_approvals=approvals,
            labels=frozenset(name for name in labels if isinstance(name, str)),
            **flags,
        )

    def requires_review(self, label: str) -> bool:
        return label in self.labels


@dataclass(frozen=True)
class ProposalEvent:
    """One recorded step of a proposal; ``data`` holds what the kind needs:

    - submitted / revised: ``config``, ``base_version``, ``reason``, ``label`` (None)
    - reviewed: ``decision``, ``comment``, ``revision`` (the revision reviewed)
    - withdrawn: ``reason``
    - applied: ``version``, ``revision``, ``label``, ``label_move`` (the move's
      sequence, None when the label already pointed there or there is none),
      ``approvers``, ``merged_onto`` (None when applied on its own base)
    """

    proposal: int
    kind: str
    timestamp: float
    actor: str | None
    data: dict[str, Any]
    sequence: int = 0  # given by the store when written
    chain_hash: str = field(default="", compare=False)

    @property
    def at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp, tz=dt.UTC)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*EVENT_FIELDS, "chain_hash")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProposalEvent:
        return cls(
            proposal=data["proposal"],
            kind=data["kind"],
            timestamp=data["timestamp"],
            actor=data.get("actor"),
            data=data.get("data") or {},
            sequence=data.get("sequence", 0),
            chain_hash=data.get("chain_hash", ""),
        )


def event_chain_hash(previous_chain_hash: str, event: ProposalEvent) -> str:
    """The chain hash of ``event``, after the config's event with ``previous_chain_hash``
    (``GENESIS`` for its first)."""
    fields = [getattr(event, name) for name in EVENT_FIELDS]
    fields[EVENT_FIELDS.index("timestamp")] = float(event.timestamp)
    return sha256_hex(previous_chain_hash + "\n" + canonical_json(fields))


@dataclass(frozen=True)
class Revision:
    """One submitted content of a proposal (1 is the first submission)."""

    number: int
    config: dict[str, Any]
    base_version: int
    reason: str
    submitted_by: str | None
    timestamp: float


@dataclass(frozen=True)
class Review:
    reviewer: str | None
    decision: str
    comment: str
    revision: int
    timestamp: float


@dataclass(frozen=True)
class Proposal:
    """A proposal as its events add up to. ``status`` is judged under the policy given
    to :func:`fold`; ``approvers`` are the reviewers whose approval counts now."""

    id: int
    author: str | None
    label: str | None
    status: str
    revisions: tuple[Revision, ...]
    reviews: tuple[Review, ...]
    approvers: tuple[str | None, ...]
    rejecters: tuple[str | None, ...]
    created_at: float
    updated_at: float
    applied_version: int | None = None
    merged_onto: int | None = None
    closed_by: str | None = None  # who applied or withdrew it
    events: tuple[ProposalEvent, ...] = ()

    @property
    def revision(self) -> Revision:
        return self.revisions[-1]

    @property
    def config(self) -> dict[str, Any]:
        return self.revision.config

    @property
    def base_version(self) -> int:
        return self.revision.base_version

    @property
    def reason(self) -> str:
        return self.revision.reason

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


def fold(events: Iterable[ProposalEvent], policy: ReviewPolicy) -> dict[int, Proposal]:
    """Every proposal the ``events`` (oldest first) describe, by number."""
    steps: dict[int, list[ProposalEvent]] = {}
    for event in events:
        steps.setdefault(event.proposal, []).append(event)
    return {number: _fold_one(number, found, policy) for number, found in steps.items()}


def _fold_one(number: int, events: list[ProposalEvent], policy: ReviewPolicy) -> Proposal:
    first = events[0]
    author = first.actor
    label = first.data.get("label")
    revisions: list[Revision] = []
    reviews: list[Review] = []
    applied: ProposalEvent | None = None
    withdrawn: ProposalEvent | None = None
    for event in events:
        data = event.data
        if event.kind in (SUBMITTED, REVISED):
            revisions.append(
                Revision(
                    number=len(revisions) + 1,
                    config=data["config"],
                    base_version=data["base_version"],
                    reason=data.get("reason", ""),
                    submitted_by=event.actor,
                    timestamp=event.timestamp,
                )
            )
            if event.kind == REVISED and "label" in data:
                label = data["label"]
        elif event.kind == REVIEWED:
            reviews.append(
                Review(
                    reviewer=event.actor,
                    decision=data["decision"],
                    comment=data.get("comment", ""),
                    revision=data["revision"],
                    timestamp=event.timestamp,
                )
            )
        elif event.kind == APPLIED_EVENT:
            applied = event
        elif event.kind == WITHDRAWN_EVENT:
            withdrawn = event
    current = len(revisions)
    # Each reviewer's last word on the current revision.
    last_word: dict[str | None, str] = {}
    for review in reviews:
        if review.revision == current and (policy.allow_self_approval or review.reviewer != author):
            last_word.pop(review.reviewer, None)  # keep the order of their last review
            last_word[review.reviewer] = review.decision
    approvers = tuple(who for who, decision in last_word.items() if decision == APPROVE)
    rejecters = tuple(who for who, decision in last_word.items() if decision == REJECT)
    if applied is not None:
        status = APPLIED
    elif withdrawn is not None:
        status = WITHDRAWN
    elif rejecters:
        status = REJECTED
    elif len(approvers) >= policy.required_approvals:
        status = APPROVED
    else:
        status = OPEN
    closing = applied or withdrawn
    return Proposal(
        id=number,
        author=author,
        label=label,
        status=status,
        revisions=tuple(revisions),
        reviews=tuple(reviews),
        approvers=tuple(applied.data.get("approvers", approvers)) if applied else approvers,
        rejecters=rejecters,
        created_at=first.timestamp,
        updated_at=events[-1].timestamp,
        applied_version=applied.data.get("version") if applied else None,
        merged_onto=applied.data.get("merged_onto") if applied else None,
        closed_by=closing.actor if closing else None,
        events=tuple(events),
    )
