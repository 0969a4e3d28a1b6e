"""Verification of a config's proposal events: the record of who proposed, reviewed and
applied what.

Long because an event is checked on three levels, each with its own words: as a link of
its chain (numbered 1..N, hashed over the one before it, signed), as a step a manager
could have written after the proposal's earlier steps, and against what it claims
elsewhere (the version an ``applied`` event names, the label move, the summary row).

Events are read by sequence, as label moves are, and each one is checked:

- sequences run 1..N; its recorded fields (``data`` as stored, parsed) and the previous
  event's chain hash still hash to its chain hash; with a signing key, signed as
  versions are;
- it is a step a manager could have written: a known kind, with the data that kind
  records; a submission takes the next proposal number; a revision is its author's; a
  review is of the current revision; nothing follows an apply or a withdrawal; an apply
  records the current revision, the proposal's label, the approvers its reviews add up
  to (with or without the author's own, as review policies differ), and a version that
  follows its base (or the version it was merged onto);
- an ``applied`` event names a version whose metadata names the proposal (its revision,
  approvers and merge), or, when the apply wrote nothing because the newest version
  already held the result, a version holding exactly what it would have written; and
  the label move it names moved its label to that version;
- the proposal's summary row (``BotConfigProposal``, what lists are read from) says what
  its events add up to: author, label, base version, revision, reason, applied version,
  times, and a status and approval count some review policy gives (the site's REVIEW
  setting may have changed since the row was written; the policy-free facts may not).

As for label moves, an event whose chain hash does not match (or a missing one) is not
judged further, and neither are the proposals it may have belonged to: one edit shows
once. What no such event can explain still shows (a step of a proposal none of them can
have submitted). The same checker serves the import, which refuses a file at its first
break.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from config_versions.chains import CHAIN_MISMATCH, SignedChain
from config_versions.core.errors import UnknownLabelError
from config_versions.core.jsondata import GENESIS, canonical_json, refuse_constant
from config_versions.core.labels import check_label_name, is_version_number
from config_versions.core.merge import three_way_merge
from config_versions.core.proposals import (
    APPLIED_EVENT,
    APPROVED,
    DECISIONS,
    EVENT_KINDS,
    OPEN,
    REVIEWED,
    REVISED,
    SUBMITTED,
    WITHDRAWN_EVENT,
    Proposal,
    ProposalEvent,
    ReviewPolicy,
    event_chain_hash,
    fold,
)

PAGE_SIZE = 500
# What a manager writes in each kind's data (and what a revision may also carry).
DATA_KEYS = {
    SUBMITTED: frozenset({"config", "base_version", "reason", "label"}),
    REVISED: frozenset({"config", "base_version", "reason"}),
    REVIEWED: frozenset({"decision", "comment", "revision"}),
    WITHDRAWN_EVENT: frozenset({"reason"}),
    APPLIED_EVENT: frozenset(
        {"version", "revision", "label", "label_move", "approvers", "merged_onto"}
    ),
}
OPTIONAL_KEYS = {REVISED: frozenset({"label"})}


class _Unreadable:
    def __repr__(self) -> str:
        return "<data that is not JSON>"


UNREADABLE: Any = _Unreadable()

# Looks recorded rows up by number: versions' (config, metadata), moves' (label, to_version).
VersionsOf = Callable[[Collection[int]], dict[int, tuple[Any, Any]]]
MovesOf = Callable[[Collection[int]], dict[int, tuple[str, int]]]


def _compact(data: Any) -> str:
    """The text a store writes for an event's ``data``: compact, keys in their order."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def parse_data(text: str) -> Any:
    """A stored event's ``data`` text as JSON data; UNREADABLE if it is not JSON."""
    try:
        return json.loads(text, parse_constant=refuse_constant)
    except (ValueError, RecursionError):
        return UNREADABLE


class EventRow(NamedTuple):
    """A recorded proposal event with its chain hash, from the database or an export.
    ``text``: the stored text of ``data`` (None from a file, where only data is)."""

    sequence: int
    proposal: int
    kind: str
    timestamp: float
    actor: str | None
    data: Any
    chain_hash: str
    signature: str | None = None
    text: str | None = None

    def event(self) -> ProposalEvent:
        return ProposalEvent(
            proposal=self.proposal,
            kind=self.kind,
            timestamp=self.timestamp,
            actor=self.actor,
            data=self.data,
            sequence=self.sequence,
        )


class Summary(NamedTuple):
    """A proposal's summary row as recorded (``BotConfigProposal``)."""

    number: int
    status: str
    author: str | None
    label: str | None
    base_version: int
    revision: int
    approvals: int
    reason: str
    applied_version: int | None
    created_at: Any
    updated_at: Any


SUMMARY_FIELDS = Summary._fields


@dataclass(frozen=True)
class ProposalBreak:
    """A proposal event that no longer matches its chain, or no manager could have
    written; or (``sequence`` None) a proposal's summary row that does not match its
    events. ``proposal`` is None where the event itself is missing."""

    slug: str
    sequence: int | None
    proposal: int | None
    problem: str

    @property
    def where(self) -> str:
        if self.sequence is None:
            return f"proposal {self.proposal}"
        named = f" (proposal {self.proposal})" if self.proposal is not None else ""
        return f"proposal event {self.sequence}{named}"

    def __str__(self) -> str:
        return f"{self.slug}: {self.where}: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "proposal": self.proposal, "problem": self.problem}

    def order(self) -> tuple[float, int]:
        return (float("inf") if self.sequence is None else self.sequence, self.proposal or 0)


@dataclass(frozen=True)
class _Claim:
    """What an ``applied`` event says it did, to compare with the version and move."""

    sequence: int
    proposal: int
    version: int
    revision: int
    base_version: int
    merged_onto: int | None
    approvers: list[Any]
    config: dict[str, Any]  # the revision applied
    label: str | None
    label_move: int | None
    events: tuple[ProposalEvent, ...]  # the proposal's, for its summary


class ProposalChecker(SignedChain):
    """Checks the proposal events of one config as they come, by sequence.

    ``versions``: how many versions the history holds. ``versions_of`` and ``moves_of``
    look up the versions and label moves ``applied`` events name. ``summaries``: the
    summary rows by proposal number, to compare with the events (None: not compared).
    ``policy``: the review policy the summaries' expected values are shown under.
    ``when``: a recorded timestamp as the summary's time columns hold it.
    """

    noun = "proposal event"

    def __init__(
        self,
        slug: str,
        versions: int,
        *,
        versions_of: VersionsOf,
        moves_of: MovesOf,
        signing_key: str | None = None,
        summaries: dict[int, Summary] | None = None,
        policy: ReviewPolicy | None = None,
        when: Callable[[float], Any] = float,
    ) -> None:
        super().__init__(signing_key)
        self.slug = slug
        self.versions = versions
        self.breaks: list[ProposalBreak] = []
        self.rows = 0
        self.last = 0  # sequence of the last event fed
        self.head = GENESIS  # its recorded chain hash
        self._recomputed = GENESIS  # as in ChainChecker
        self._watch: tuple[int, str | None, int | None] | None = None
        self._versions_of = versions_of
        self._moves_of = moves_of
        self._summaries = summaries
        self._policy = policy or ReviewPolicy()
        self._when = when
        # Events missing, or not as recorded, so far: each may have been a submission.
        self._unknown = 0
        self._highest = 0  # the highest proposal number submitted
        self._open: dict[int, list[ProposalEvent]] = {}  # judged, still active
        self._closed: dict[int, str] = {}  # judged, applied or withdrawn: how
        self._unjudged: set[int] = set()
        self._claims: list[_Claim] = []

    def watch(self, sequence: int) -> None:
        """Remember the recorded chain hash of event ``sequence``."""
        self._watch = (sequence, None, None)

    def chain_hash_at(self) -> tuple[str | None, int | None]:
        """The watched event's recorded chain hash and proposal (None, None: not read)."""
        return (self._watch[1], self._watch[2]) if self._watch else (None, None)

    def feed(self, row: EventRow, *, recorded: bool = True) -> None:
        """Check the next event. ``recorded`` false: the row has no chain hash to check
        (a file without hashes); the chain goes on from the one it would have."""
        number, proposal = row.sequence, row.proposal
        self.rows += 1
        expected = self.last + 1
        chained = True
        if number != expected:
            chained = False
            self._taint(max(number - expected, 1))
            if number > expected:
                what = (
                    "missing"
                    if number == expected + 1
                    else f"missing, up to proposal event {number - 1}"
                )
                self._add(expected, f"{what} (found {number} next)")
            else:
                self._add(number, f"out of order: found after proposal event {self.last}", proposal)
        trusted = True
        recomputed = row.chain_hash
        if row.data is UNREADABLE:
            self._add(number, "its data is not JSON", proposal)
            trusted = False
        else:
            event = row.event()
            link = event_chain_hash(self.head, event)
            recomputed = link
            if not recorded:
                row = row._replace(chain_hash=link)
            elif chained and link != row.chain_hash:
                if self._recomputed != self.head:
                    recomputed = event_chain_hash(self._recomputed, event)
                if recomputed != row.chain_hash:
                    self._add(number, CHAIN_MISMATCH, proposal)
                    recomputed = link
                    trusted = False
            elif not chained:
                recomputed = row.chain_hash
            if trusted and row.text is not None and _compact(row.data) != row.text:
                self._add(
                    number,
                    "its data is not the JSON text the app writes (compact, keys as "
                    "written): it was written outside the app",
                    proposal,
                )
                trusted = False
        if trusted:
            self._judge(row.event())
        else:
            self._taint()
        self._signature(number, row.chain_hash, row.signature, proposal)
        if self._watch is not None and self._watch[0] == number:
            self._watch = (number, row.chain_hash, proposal)
        self.last, self.head, self._recomputed = number, row.chain_hash, recomputed
        if len(self._claims) >= PAGE_SIZE:
            self._settle_claims()

    def finish(self) -> list[ProposalBreak]:
        """Close the check (the claims, the summaries of proposals still active, summary
        rows no event names); all breaks, in order."""
        self._settle_signatures()
        self._settle_claims()
        for number, events in self._open.items():
            self._compare_summary(number, events)
        if self._summaries is not None:
            for number, summary in sorted(self._summaries.items()):
                if number in self._closed or number in self._unjudged:
                    continue
                if not self._never_submitted(number):
                    continue  # its events may be those missing or not as recorded
                self._add(
                    None,
                    f"its summary row (status {summary.status!r}) names a proposal no event "
                    "records: its events were cut from the end, or the row was written "
                    "outside the app",
                    number,
                )
        self.breaks.sort(key=ProposalBreak.order)
        return self.breaks

    # Judging a step -------------------------------------------------------------

    def _judge(self, event: ProposalEvent) -> None:
        number, kind = event.proposal, event.kind
        problem = _shape(event, self.versions)
        if problem is not None:
            self._add(event.sequence, problem, number if is_version_number(number) else None)
            if kind in EVENT_KINDS and is_version_number(number):
                if kind != SUBMITTED or self._known(number):
                    self._unjudge(number)
            else:
                self._taint()  # whatever it was, it may have been a step of any proposal
            return
        if kind == SUBMITTED:
            self._submitted(event)
            return
        if number in self._unjudged:
            return
        if number in self._closed:
            self._add(
                event.sequence,
                f"a step of proposal {number} after it was {self._closed[number]}",
                number,
            )
            return
        earlier = self._open.get(number)
        if earlier is None:
            if self._never_submitted(number):  # not an event missing, or not as recorded
                self._add(
                    event.sequence,
                    f"a step of proposal {number}, which was never submitted",
                    number,
                )
            return
        state = fold(earlier, self._policy)[number]
        problem = self._rule(event, state, earlier)
        if problem is not None:
            self._add(event.sequence, problem, number)
            self._unjudge(number)
            return
        earlier.append(event)
        if kind == WITHDRAWN_EVENT:
            self._closed[number] = f"withdrawn (event {event.sequence})"
            del self._open[number]
            self._compare_summary(number, earlier)
        elif kind == APPLIED_EVENT:
            data = event.data
            self._closed[number] = f"applied as version {data['version']} (event {event.sequence})"
            del self._open[number]
            # Its summary is compared once the version and move it names are.
            self._claims.append(
                _Claim(
                    sequence=event.sequence,
                    proposal=number,
                    version=data["version"],
                    revision=state.revision.number,
                    base_version=state.base_version,
                    merged_onto=data["merged_onto"],
                    approvers=data["approvers"],
                    config=state.config,
                    label=data["label"],
                    label_move=data["label_move"],
                    events=tuple(earlier),
                )
            )

    def _submitted(self, event: ProposalEvent) -> None:
        number = event.proposal
        if self._known(number):
            self._add(event.sequence, f"submits proposal {number} again", number)
            self._unjudge(number)
        elif number <= self._highest or number > self._highest + 1 + self._unknown:
            # (Events missing or not as recorded may have submitted up to one each.)
            self._add(
                event.sequence,
                f"submits proposal {number}, but the last proposal submitted was "
                f"{self._highest or 'none'}: proposals are numbered 1, 2, 3 ... as submitted",
                number,
            )
        else:
            self._open[number] = [event]
            self._highest = number

    def _rule(
        self, event: ProposalEvent, state: Proposal, earlier: list[ProposalEvent]
    ) -> str | None:
        """What makes ``event`` a step no manager writes after ``earlier``; None: none."""
        data, number = event.data, event.proposal
        current = state.revision.number
        if event.kind == REVISED and event.actor != state.author:
            return (
                f"revised by {event.actor!r}, but only its author ({state.author!r}) may "
                "revise a proposal"
            )
        if event.kind == REVIEWED and data["revision"] != current:
            return f"reviews revision {data['revision']}, but revision {current} was current"
        if event.kind != APPLIED_EVENT:
            return None
        if data["revision"] != current:
            return f"applies revision {data['revision']}, but revision {current} was current"
        if data["label"] != state.label:
            return f"moves label {data['label']!r}, but the proposal names {state.label!r}"
        if data["label"] is None and data["label_move"] is not None:
            return f"records label move {data['label_move']}, but the proposal moves no label"
        problem = _approval(number, data["approvers"], earlier, current)
        if problem is not None:
            return problem
        base, onto = state.base_version, data["merged_onto"]
        if onto is not None and onto <= base:
            return f"says it merged onto version {onto}, which is not newer than its base {base}"
        start = onto if onto is not None else base
        if data["version"] not in (start, start + 1):
            merged = f" and merged onto version {onto}" if onto is not None else ""
            return (
                f"applies it as version {data['version']}, but a proposal made from version "
                f"{base}{merged} becomes version {start + 1} (or stays at {start}, when "
                "that version already holds what it would write)"
            )
        return None

    # Claims: the versions and moves applied events name ------------------------

    def _settle_claims(self) -> None:
        claims, self._claims = self._claims, []
        if not claims:
            return
        numbers: set[int] = set()
        for claim in claims:
            numbers |= {claim.version, claim.base_version}
            if claim.merged_onto is not None:
                numbers.add(claim.merged_onto)
        versions = self._versions_of(numbers)
        moves = self._moves_of({c.label_move for c in claims if c.label_move is not None})
        for claim in claims:
            problem = _version_problem(claim, versions)
            if problem is None and claim.label_move is not None:
                problem = _move_problem(claim, moves.get(claim.label_move))
            if problem is not None:
                self._add(claim.sequence, problem, claim.proposal)
                self._unjudge(claim.proposal)
            else:
                self._compare_summary(claim.proposal, list(claim.events))

    # Summaries -------------------------------------------------------------------

    def _compare_summary(self, number: int, events: list[ProposalEvent]) -> None:
        if self._summaries is None:
            return
        summary = self._summaries.pop(number, None)
        if summary is None:
            self._add(None, "it has no summary row, though its events record it", number)
            return
        now = fold(events, self._policy)[number]
        expected = {
            "author": now.author,
            "label": now.label,
            "base_version": now.base_version,
            "revision": now.revision.number,
            "reason": now.reason,
            "applied_version": now.applied_version,
            "created_at": self._when(now.created_at),
            "updated_at": self._when(now.updated_at),
        }
        found = summary._asdict()
        differences = [
            f"{name} {_show(found[name])} (its events: {_show(value)})"
            for name, value in expected.items()
            if found[name] != value
        ]
        if (summary.status, summary.approvals) not in _possible_states(events, number):
            differences.append(
                f"status {summary.status!r} with {summary.approvals} approval(s) (its events: "
                f"{now.status!r} with {len(now.approvers)} under the REVIEW setting, and no "
                "review policy gives the row's)"
            )
        if differences:
            self._add(
                None,
                "its summary row does not match its events: " + "; ".join(differences),
                number,
            )

    # Bookkeeping -----------------------------------------------------------------

    def _taint(self, events: int = 1) -> None:
        """``events`` are missing or not as recorded: whichever proposal they belonged to
        is not judged from here on (its summary neither), and each may have submitted one."""
        self._unknown += events
        for number in list(self._open):
            self._unjudge(number)

    def _known(self, number: int) -> bool:
        return number in self._open or number in self._closed or number in self._unjudged

    def _never_submitted(self, number: int) -> bool:
        """Whether no event, not even one missing or not as recorded, can have submitted
        proposal ``number`` (one the checker has not seen submitted)."""
        return not self._unknown or number > self._highest + self._unknown

    def _unjudge(self, number: int) -> None:
        self._open.pop(number, None)
        self._unjudged.add(number)
        if self._summaries is not None:
            self._summaries.pop(number, None)

    def _add(self, number: int | None, problem: str, tag: Any = None) -> None:
        self.breaks.append(ProposalBreak(self.slug, number, tag, problem))


def _shape(event: ProposalEvent, versions: int) -> str | None:
    """What makes ``event`` no event a manager writes, whatever came before; None: none."""
    kind, data = event.kind, event.data
    if kind not in EVENT_KINDS:
        return f"its kind {kind!r} is none a manager writes ({', '.join(EVENT_KINDS)})"
    if not is_version_number(event.proposal):
        return f"names no proposal number ({event.proposal!r})"
    if not isinstance(data, dict):
        return f"its {kind} data is not a JSON object"
    keys, required = set(data), DATA_KEYS[kind]
    missing = sorted(required - keys)
    if missing:
        return f"its {kind} data has no {', '.join(map(repr, missing))}"
    extra = sorted(keys - required - OPTIONAL_KEYS.get(kind, frozenset()))
    if extra:
        return f"its {kind} data has {', '.join(map(repr, extra))}, which a manager never writes"
    for name in sorted(keys):
        problem = _field_problem(name, data[name], versions)
        if problem is not None:
            return f"its {kind} data's {name} {problem}"
    return None


def _field_problem(name: str, value: Any, versions: int) -> str | None:
    held = f"is not a version the history holds (it has {versions}): {_show(value)}"
    if name == "config":
        return None if isinstance(value, dict) else f"is not a JSON object: {_show(value)}"
    if name in ("base_version", "version"):
        return None if is_version_number(value) and value <= versions else held
    if name == "merged_onto":
        return None if value is None or (is_version_number(value) and value <= versions) else held
    if name in ("reason", "comment"):
        return None if isinstance(value, str) else f"is not text: {_show(value)}"
    if name == "label":
        if value is None:
            return None
        try:
            check_label_name(value, movable=True)
        except UnknownLabelError:
            return f"is not a label that moves: {_show(value)}"
        return None
    if name == "decision":
        return None if value in DECISIONS else f"is not {' or '.join(DECISIONS)}: {_show(value)}"
    if name in ("revision", "label_move"):
        if name == "label_move" and value is None:
            return None
        return None if is_version_number(value) else f"is not a number from 1: {_show(value)}"
    if name == "approvers":
        if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
            return None
        return f"is not a list of names: {_show(value)}"
    return None  # pragma: no cover - every key of DATA_KEYS is named above


def _approval(
    number: int, approvers: list[Any], earlier: list[ProposalEvent], revision: int
) -> str | None:
    """Whether an apply recording ``approvers`` could follow ``earlier``: the approvers
    of the current revision under a policy that does or does not count the author's own
    review, approved under it (at least one, and no reviewer's last word a rejection)."""
    found: list[Proposal] = []
    for own in (False, True):
        state = fold(earlier, ReviewPolicy(required_approvals=1, allow_self_approval=own))
        found.append(state[number])
    matching = [state for state in found if list(state.approvers) == approvers]
    if not matching:
        shown = " or ".join(sorted({_show(list(s.approvers)) for s in found}))
        return (
            f"records the approvers {_show(approvers)}, but the reviews of revision "
            f"{revision} approve {shown}"
        )
    if not approvers:
        return f"applies it without an approval of revision {revision}"
    if all(state.status != APPROVED for state in matching):
        rejecters = ", ".join(map(str, matching[0].rejecters))
        return f"applies it, though {rejecters} rejected revision {revision}"
    return None


def _possible_states(events: Iterable[ProposalEvent], number: int) -> set[tuple[str, int]]:
    """The (status, approvals) a summary row may hold for these events: what some review
    policy (self-approval allowed or not, any number of approvals required) folds them to."""
    events = list(events)
    states: set[tuple[str, int]] = set()
    for own in (False, True):
        state = fold(events, ReviewPolicy(required_approvals=1, allow_self_approval=own))[number]
        count = len(state.approvers)
        states.add((state.status, count))
        if state.status == APPROVED:
            states.add((OPEN, count))  # under a policy asking for more approvals
    return states


def _version_problem(claim: _Claim, versions: dict[int, tuple[Any, Any]]) -> str | None:
    found = versions.get(claim.version)
    if found is None:
        return f"applies it as version {claim.version}, which is missing"
    config, metadata = found
    metadata = metadata if isinstance(metadata, dict) else {}
    named = metadata.get("proposal")
    if named == claim.proposal and not isinstance(named, bool):
        merged = claim.merged_onto is not None
        recorded = {
            "revision": metadata.get("revision"),
            "approvers": metadata.get("approvers"),
            "merged_from": metadata.get("merged_from"),
            "merged_onto": metadata.get("merged_onto"),
        }
        claimed = {
            "revision": claim.revision,
            "approvers": claim.approvers,
            "merged_from": claim.base_version if merged else None,
            "merged_onto": claim.merged_onto,
        }
        differences = [
            f"{name} {_show(recorded[name])} (the event: {_show(value)})"
            for name, value in claimed.items()
            if recorded[name] != value
        ]
        start = claim.merged_onto if claim.merged_onto is not None else claim.base_version
        if claim.version != start + 1:
            differences.append(f"it is not the version after {start}")
        if differences:
            return f"applies it as version {claim.version}, whose metadata disagrees: " + "; ".join(
                differences
            )
        return None
    # Nothing was written: the newest version already held what applying would write.
    start = claim.merged_onto if claim.merged_onto is not None else claim.base_version
    written = _what_it_writes(claim, versions)
    if (
        claim.version != start
        or written is None
        or canonical_json(written) != canonical_json(config)
    ):
        who = f"proposal {_show(named)}" if named is not None else "no proposal"
        return (
            f"applies it as version {claim.version}, whose metadata names {who}, and which "
            "does not hold what applying it would have written"
        )
    return None


def _what_it_writes(claim: _Claim, versions: dict[int, tuple[Any, Any]]) -> Any:
    if claim.merged_onto is None:
        return claim.config
    base, onto = versions.get(claim.base_version), versions.get(claim.merged_onto)
    if base is None or onto is None or not isinstance(base[0], dict):
        return None
    if not isinstance(onto[0], dict):
        return None
    merged, conflicts = three_way_merge(base[0], claim.config, onto[0])
    return None if conflicts else merged


def _move_problem(claim: _Claim, move: tuple[str, int] | None) -> str | None:
    if move is None:
        return f"records label move {claim.label_move}, which the label moves do not hold"
    if move != (claim.label, claim.version):
        return (
            f"records label move {claim.label_move}, which moved {move[0]!r} to version "
            f"{move[1]}, not {claim.label!r} to version {claim.version}"
        )
    return None


def _show(value: object) -> str:
    """A value for a message: short, and on one line whatever it holds."""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
