"""What the review page of a proposal shows: its diffs, merge preview, revisions, reviews.

Display only. What the proposal holds and what applying it would write come from
``review.describe`` (the manager's preview); who may take which step comes from
``config_versions.review``'s refusals. This module lays that out: the side-by-side
diffs (rendered by ``diff_html``, each table with its own ids and fold parameter, as
several share the page), the conflicting places with the three values, and the rows
of the revisions and reviews tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from django.utils.safestring import SafeString

from config_versions import conf, review
from config_versions.admin.diff_html import render_rows, render_summary
from config_versions.core.diff import diff_configs
from config_versions.core.proposals import Proposal
from config_versions.diff_display import SideBySide, side_by_side
from config_versions.editor_form import shown_at
from config_versions.releases import User

# The diffs of the page, each unfolded by its own query parameter (``expand_base=12``).
DIFFS = ("base", "current", "merged", "label")


def at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def expand_param(key: str) -> str:
    return f"expand_{key}"


@dataclass(frozen=True, slots=True)
class Diff:
    """One side-by-side table of the page: ``left`` (a version number) against
    ``right_heading`` (the proposal, or the merged config)."""

    key: str
    left: int
    right_heading: str
    display: SideBySide
    rows_html: SafeString
    summary_html: SafeString

    @property
    def versions(self) -> list[dict[str, Any]]:
        # What the shared diff table include reads its left heading from.
        return [{"number": self.left}, {"number": None}]


def unfolded(values: list[str]) -> frozenset[int] | Literal["all"]:
    if "all" in values:
        return "all"
    return frozenset(int(v) for v in values if v.isdecimal() and len(v) < 10)


def build_diff(
    key: str,
    old: dict[str, Any],
    new: dict[str, Any],
    left: int,
    right_heading: str,
    expand: dict[str, frozenset[int] | Literal["all"]],
) -> Diff:
    """The table ``key`` from ``old`` (version ``left``) to ``new``; ``expand``: what
    each table of the page has unfolded, kept in the fold links."""
    display = side_by_side(
        old,
        new,
        diff_configs(old, new)["changes"],
        context=conf.settings.ADMIN_DIFF_CONTEXT,
        expand=expand.get(key, frozenset()),
    )
    kept = {
        expand_param(name): ["all"] if value == "all" else sorted(value)
        for name, value in expand.items()
        if value
    }
    ids = f"cv-{key}-"
    # The summary links to the table's line cells, which carry this table's ids.
    summary = [
        replace(item, anchor=ids + item.anchor.removeprefix("cv-")) if item.anchor else item
        for item in display.summary
    ]
    return Diff(
        key=key,
        left=left,
        right_heading=right_heading,
        display=display,
        rows_html=render_rows(
            display, urlencode(kept, doseq=True), ids=ids, expand=expand_param(key)
        ),
        summary_html=render_summary(summary),
    )


@dataclass(frozen=True, slots=True)
class Conflict:
    """A place both the proposal and the newest version changed, with the three values."""

    path: str
    base: str
    proposed: str
    newest: str


def conflicts(
    paths: list[str], base: dict[str, Any], proposed: dict[str, Any], newest: dict[str, Any]
) -> list[Conflict]:
    return [
        Conflict(path, shown_at(base, path), shown_at(proposed, path), shown_at(newest, path))
        for path in paths
    ]


@dataclass(frozen=True, slots=True)
class RevisionRow:
    number: int
    base_version: int
    reason: str
    submitted_by: str
    submitted_at: datetime
    is_current: bool


@dataclass(frozen=True, slots=True)
class ReviewRow:
    reviewer: str
    decision: str
    comment: str
    revision: int
    reviewed_at: datetime
    # Whether it counts now: the reviewer's last word on the current revision.
    counts: bool


def revision_rows(proposal: Proposal) -> list[RevisionRow]:
    current = proposal.revision.number
    return [
        RevisionRow(
            number=r.number,
            base_version=r.base_version,
            reason=r.reason,
            submitted_by=r.submitted_by or "",
            submitted_at=at(r.timestamp),
            is_current=r.number == current,
        )
        for r in reversed(proposal.revisions)
    ]


def review_rows(proposal: Proposal) -> list[ReviewRow]:
    current = proposal.revision.number
    counted = {*proposal.approvers, *proposal.rejecters}
    rows: list[ReviewRow] = []
    seen: set[str | None] = set()
    for r in reversed(proposal.reviews):  # newest first: a reviewer's last word counts
        counts = r.revision == current and r.reviewer in counted and r.reviewer not in seen
        seen.add(r.reviewer)
        rows.append(
            ReviewRow(
                reviewer=r.reviewer or "",
                decision=r.decision,
                comment=r.comment,
                revision=r.revision,
                reviewed_at=at(r.timestamp),
                counts=counts,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Steps:
    """The steps ``user`` may take on a proposal now, as ``config_versions.review``
    answers; each is taken (and checked again) on POST."""

    review: bool
    apply: bool
    withdraw: bool
    revise: bool
    own: bool  # the user wrote it
    apply_refusal: str | None  # why not, when it is approved

    @property
    def any(self) -> bool:
        return self.review or self.apply or self.withdraw or self.revise


def steps(user: User, proposal: Proposal, *, archived: bool) -> Steps:
    name = user.get_username() if user.is_authenticated else None
    own = name is not None and proposal.author == name
    active = proposal.is_active and not archived
    refusal = review.apply_refusal(user, proposal)
    return Steps(
        # Self-approval: hidden here, refused by the manager if posted all the same.
        review=active
        and review.review_refusal(user) is None
        and (not own or review.policy().allow_self_approval),
        apply=active and review.is_ready(proposal) and refusal is None,
        withdraw=active and review.withdraw_refusal(user, proposal) is None,
        revise=active and own and review.propose_refusal(user) is None,
        own=own,
        apply_refusal=refusal if review.is_ready(proposal) else None,
    )
