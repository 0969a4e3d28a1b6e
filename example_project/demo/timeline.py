"""When each thing in a demo bot's history happens: versions, label moves, proposals.

``timeline`` turns a :class:`~demo.data.DemoBot` into one list of moments, oldest first,
that ``load_demo_configs`` replays in order (a proposal applied writes the next version,
so versions, reviews and applies must happen in the order they did). It also refuses a
history that could not have happened: a moment anchored after a version falling once
the next version was written, a review before its proposal, a moment in the future.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from demo.data import (
    PRODUCTION,
    Applied,
    DemoBot,
    Proposed,
    Release,
    Review,
    Step,
    When,
    Withdrawn,
)


@dataclass(frozen=True)
class Submitted:
    """A proposal as it is submitted: version ``config_of``'s config (by default its
    ``base``) with ``edits``, made from ``base``, for ``label``."""

    author: str
    reason: str
    base: int
    label: str | None
    edits: dict[str, Any] = field(default_factory=dict)
    config_of: int | None = None


@dataclass(frozen=True)
class Moment:
    """One thing ``actor`` does at ``when``: write ``version`` (``what`` is its Step,
    or None for the first version), move a label (a Release), or a step of proposal
    ``key`` (Submitted, Review, Withdrawn, Applied; a Step with ``through`` applies it)."""

    when: float
    actor: str
    what: Step | Release | Submitted | Review | Withdrawn | Applied | None
    key: int = 0
    version: int | None = None


def history_moments(count: int, now: datetime) -> list[datetime]:
    """``count`` moments in the past, about two days apart, in working hours, oldest first."""
    start = (now - timedelta(days=2 * count)).replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        start + timedelta(days=2 * index, hours=(index * 5) % 8, minutes=(index * 17) % 60)
        for index in range(count)
    ]


def demo_history(demo: DemoBot) -> list[tuple[int, str, str]]:
    """(number, writer, reason) of every version the demo writes for ``demo``, oldest
    first; a version written by applying a proposal is its applier's."""
    first = [(1, demo.author, "First version")]
    return first + [(n, s.writer, s.reason) for n, s in enumerate(demo.steps, start=2)]


def timeline(
    demo: DemoBot, stamps: dict[int, float], labels: set[str], now: float | None = None
) -> list[Moment]:
    """Every moment of ``demo``'s history, oldest first, given when each version is
    written (``stamps``) and the labels the site declares: moves and proposals for
    labels it does not declare are left out (a proposal for one is made without a label,
    unless it only released a version as it is)."""
    clock = Clocked(stamps, time.time() if now is None else now)
    moments = [Moment(stamps[1], demo.author, None, version=1)]
    key = 0
    for number, step in enumerate(demo.steps, start=2):
        if step.through is None:
            moments.append(Moment(stamps[number], step.author, step, version=number))
            continue
        key += 1
        through = step.through
        label = PRODUCTION if PRODUCTION in labels else None
        submitted = Submitted(
            step.author, step.reason, through.base, label, step.edits, step.rollback_to
        )
        steps = [Moment(clock.at(through.submitted), step.author, submitted, key)]
        steps += [Moment(clock.at(r.at), r.reviewer, r, key) for r in through.reviews]
        steps.append(Moment(stamps[number], through.applied_by, step, key, version=number))
        moments += clock.in_order(steps, step.reason)
    for proposal in demo.proposals:
        label = proposal.label if proposal.label in labels else None
        if label is None and proposal.is_release:
            continue  # a release of a version to a label the site does not have
        key += 1
        moments += clock.in_order(_proposal_moments(proposal, label, key, clock), proposal.reason)
    for release in demo.releases:
        if release.label in labels:
            moments.append(Moment(clock.at(release.at), release.author, release))
    moments.sort(key=lambda moment: moment.when)
    if moments[-1].when >= clock.now:
        raise ValueError(f"{moments[-1]}: in the future")
    return moments


def _proposal_moments(
    proposal: Proposed, label: str | None, key: int, clock: Clocked
) -> list[Moment]:
    submitted = Submitted(proposal.author, proposal.reason, proposal.base, label, proposal.edits)
    steps = [Moment(clock.at(proposal.at), proposal.author, submitted, key)]
    steps += [Moment(clock.at(r.at), r.reviewer, r, key) for r in proposal.reviews]
    for end in (proposal.applied, proposal.withdrawn):
        if end is not None:
            steps.append(Moment(clock.at(end.at), end.by, end, key))
    return steps


@dataclass(frozen=True)
class Clocked:
    stamps: dict[int, float]
    now: float

    def at(self, when: When) -> float:
        """The time of ``(version, hours)``: after the version was written and before
        the next one when ``hours`` is positive, before it (and after the previous one)
        when negative."""
        version, hours = when
        moment = self.stamps[version] + hours * 3600
        if hours > 0 and moment >= self.stamps.get(version + 1, self.now):
            raise ValueError(f"{when}: not before version {version + 1} was written")
        if hours < 0 and moment <= self.stamps.get(version - 1, float("-inf")):
            raise ValueError(f"{when}: not after version {version - 1} was written")
        return moment

    @staticmethod
    def in_order(steps: list[Moment], what: str) -> list[Moment]:
        if [m.when for m in steps] != sorted(m.when for m in steps):
            raise ValueError(f"{what!r}: its steps are out of order")
        return steps
