"""Verification of recorded histories: every break, not only the first.

Long because one config has three chains, its versions, its label moves and its
proposal events, checked with the same care: each has its row checks, the signature
rules they share (``chains``), and the comparison with a checkpoint. The proposal
events' own checks live in ``proposal_integrity``; this module reads the rows.

A history is read oldest first, a page of rows at a time (a config with 100,000
versions costs no more memory than one with ten), and each row is checked:

- numbers run 1..N without gaps, and N is the config's ``current_version``;
- the config still hashes to its content hash, and the recorded fields, the content
  hash and the predecessor's chain hash still hash to its chain hash;
- with a signing key, each signature is the key's HMAC of the chain hash, and no
  unsigned version follows a signed one (a signature on version N vouches for 1..N
  through the chain, so unsigned versions before the first signed one are covered);
- against a checkpoint, the history still reaches the recorded version, with the
  recorded chain hash there.

Label moves (``core.labels``) are read the same way, by sequence, and each move is
checked too: sequences run 1..N, its recorded fields and the previous move's chain hash
still hash to its chain hash, it moves its label from where the label's previous move
left it (from nothing for the label's first), to a version the history holds; signed
and checked against a checkpoint as versions are.

Proposal events (``core.proposals``) are read by sequence too, with the proposals'
summary rows, and checked as ``proposal_integrity`` describes: chained, signed, each a
step a manager could have written, applies that match their versions and label moves,
summaries that match their events.

After a break the check goes on from the recorded chain hash, so independent breaks
each show, while one edited row shows once. The same row checks serve the import,
which refuses a file at its first break.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import QuerySet

from config_versions.chains import CHAIN_MISMATCH, Signatures, SignedChain
from config_versions.checkpoints import Mark
from config_versions.conf import settings
from config_versions.core.jsondata import GENESIS, chain_hash, content_hash
from config_versions.core.labels import MOVE_FIELDS, LabelMove, move_chain_hash
from config_versions.core.proposals import EVENT_FIELDS
from config_versions.core.version import VERSION_FIELDS
from config_versions.models import (
    BotConfig,
    BotConfigLabelMove,
    BotConfigProposal,
    BotConfigProposalEvent,
    BotConfigVersion,
)
from config_versions.proposal_integrity import (
    SUMMARY_FIELDS,
    EventRow,
    MovesOf,
    ProposalBreak,
    ProposalChecker,
    Summary,
    VersionsOf,
    parse_data,
)
from config_versions.statements import created_at

ROW_FIELDS = (*VERSION_FIELDS, "content_hash", "chain_hash", "signature")
MOVE_ROW_FIELDS = (*MOVE_FIELDS, "chain_hash", "signature")
EVENT_ROW_FIELDS = (*EVENT_FIELDS, "chain_hash", "signature")
PAGE_SIZE = 500

CONTENT_MISMATCH = "the config does not match its content hash"


class Row(NamedTuple):
    """A recorded version with its hashes, from the database or an export."""

    version: int
    config: Any
    timestamp: float
    reason: str
    previous_version: int | None
    created_by: str | None
    metadata: Any
    content_hash: str
    chain_hash: str
    signature: str | None = None


class MoveRow(NamedTuple):
    """A recorded label move with its chain hash, from the database or an export."""

    sequence: int
    label: str
    from_version: int | None
    to_version: int
    timestamp: float
    reason: str
    created_by: str | None
    chain_hash: str
    signature: str | None = None

    def move(self) -> LabelMove:
        return LabelMove(**{name: getattr(self, name) for name in MOVE_FIELDS})


@dataclass(frozen=True)
class Break:
    """A place where the recorded history no longer matches its hashes."""

    slug: str
    version: int
    problem: str

    def __str__(self) -> str:
        return f"{self.slug}: version {self.version}: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "problem": self.problem}


@dataclass(frozen=True)
class MoveBreak:
    """A place where the recorded label moves no longer match their hashes, or each
    other. ``label`` is None where the move itself is missing."""

    slug: str
    sequence: int
    label: str | None
    problem: str

    @property
    def where(self) -> str:
        named = f" ({self.label})" if self.label is not None else ""
        return f"label move {self.sequence}{named}"

    def __str__(self) -> str:
        return f"{self.slug}: {self.where}: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "label": self.label, "problem": self.problem}


@dataclass
class HistoryReport:
    """The verdict on one config's history: its versions, label moves and proposal
    events."""

    config_id: int
    slug: str
    archived: bool
    current_version: int
    signatures: Signatures
    versions: int = 0  # rows read
    chain_hash: str = GENESIS  # recorded chain hash of the newest row
    breaks: list[Break] = field(default_factory=list)
    checkpoint: Mark | None = None
    checkpoint_matches: bool | None = None  # None: not in the checkpoint
    moves: int = 0  # label moves read
    move_chain_hash: str = GENESIS  # recorded chain hash of the last move
    move_breaks: list[MoveBreak] = field(default_factory=list)
    move_signatures: Signatures = field(default_factory=lambda: Signatures(checked=False))
    events: int = 0  # proposal events read
    event_chain_hash: str = GENESIS  # recorded chain hash of the last event
    proposals: int = 0  # summary rows read
    event_breaks: list[ProposalBreak] = field(default_factory=list)
    event_signatures: Signatures = field(default_factory=lambda: Signatures(checked=False))

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.move_breaks and not self.event_breaks

    @property
    def all_breaks(self) -> list[Break | MoveBreak | ProposalBreak]:
        """The versions' breaks, then the label moves', then the proposal events'."""
        return [*self.breaks, *self.move_breaks, *self.event_breaks]

    def mark(self) -> Mark:
        """Where the history stands now, for a checkpoint."""
        return Mark(
            self.config_id,
            self.slug,
            self.versions,
            self.chain_hash,
            moves=self.moves,
            move_chain_hash=self.move_chain_hash,
            events=self.events,
            event_chain_hash=self.event_chain_hash,
        )

    def as_dict(self) -> dict[str, Any]:
        checkpoint = None
        if self.checkpoint is not None:
            checkpoint = {
                "version": self.checkpoint.version,
                "chain_hash": self.checkpoint.chain_hash,
                "label_moves": self.checkpoint.moves,
                "label_chain_hash": self.checkpoint.move_chain_hash,
                "proposal_events": self.checkpoint.events,
                "proposal_chain_hash": self.checkpoint.event_chain_hash,
                "matches": self.checkpoint_matches,
            }
        return {
            "id": self.config_id,
            "slug": self.slug,
            "archived": self.archived,
            "versions": self.versions,
            "current_version": self.current_version,
            "chain_hash": self.chain_hash,
            "ok": self.ok,
            "breaks": [b.as_dict() for b in self.breaks],
            "signatures": self.signatures.as_dict(),
            "label_moves": {
                "moves": self.moves,
                "chain_hash": self.move_chain_hash,
                "breaks": [b.as_dict() for b in self.move_breaks],
                "signatures": self.move_signatures.as_dict(),
            },
            "proposals": {
                "events": self.events,
                "chain_hash": self.event_chain_hash,
                "proposals": self.proposals,
                "breaks": [b.as_dict() for b in self.event_breaks],
                "signatures": self.event_signatures.as_dict(),
            },
            "checkpoint": checkpoint,
        }


class ChainChecker(SignedChain):
    """Checks the rows of one history as they come, oldest first.

    ``breaks`` grows as rows are fed; :meth:`finish` adds what only the end can tell.
    """

    def __init__(self, slug: str, *, signing_key: str | None = None) -> None:
        super().__init__(signing_key)
        self.slug = slug
        self.breaks: list[Break] = []
        self.rows = 0
        self.last = 0  # number of the last row fed
        self.head = GENESIS  # its recorded chain hash
        # The chain hash the last row should have had, when it differs from the recorded
        # one: the next row may have been chained to either (an edited hash column).
        self._recomputed = GENESIS
        self._watch: tuple[int, str | None] | None = None

    def watch(self, version: int) -> None:
        """Remember the recorded chain hash of ``version`` (see :meth:`chain_hash_at`)."""
        self._watch = (version, None)

    def chain_hash_at(self) -> str | None:
        return self._watch[1] if self._watch else None

    def feed(self, row: Row) -> None:
        number = row.version
        self.rows += 1
        expected = self.last + 1
        chained = True
        if number != expected:
            chained = False  # the chain of the missing predecessor is unknown
            what = "missing" if number == expected + 1 else f"missing, up to version {number - 1}"
            self._add(expected, f"{what} (found {number} next)")
        if content_hash(row.config) != row.content_hash:
            self._add(number, CONTENT_MISMATCH)
        link = _link(self.head, row)
        recomputed = link
        if chained and link != row.chain_hash:
            if self._recomputed != self.head:
                recomputed = _link(self._recomputed, row)
            if recomputed != row.chain_hash:
                self._add(number, CHAIN_MISMATCH)
                recomputed = link
        elif not chained:
            recomputed = row.chain_hash
        self._signature(number, row.chain_hash, row.signature)
        if self._watch is not None and self._watch[0] == number:
            self._watch = (number, row.chain_hash)
        self.last, self.head, self._recomputed = number, row.chain_hash, recomputed

    def finish(self, current_version: int) -> list[Break]:
        """Close the check against the config's ``current_version``; all breaks, in order."""
        self._settle_signatures()
        if self.last != current_version:
            self._add(
                max(current_version, self.last),
                f"current_version is {current_version} but the history ends at {self.last}",
            )
        self.breaks.sort(key=lambda b: b.version)  # stable: a row's breaks keep their order
        return self.breaks

    def _add(self, number: int, problem: str, tag: Any = None) -> None:
        self.breaks.append(Break(self.slug, number, problem))


class MoveChecker(SignedChain):
    """Checks the label moves of one config as they come, by sequence.

    ``versions``: how many versions the history holds; a move may point at no other.
    A move whose chain hash does not match is not also judged on where its label was,
    nor is the next move of any label judged against it: its fields are not what was
    recorded, and one edited move shows once. A missing move is treated alike.
    """

    noun = "label move"

    def __init__(self, slug: str, versions: int, *, signing_key: str | None = None) -> None:
        super().__init__(signing_key)
        self.slug = slug
        self.versions = versions
        self.breaks: list[MoveBreak] = []
        self.rows = 0
        self.last = 0  # sequence of the last move fed
        self.head = GENESIS  # its recorded chain hash
        self._recomputed = GENESIS  # as in ChainChecker
        # Where each label's last move left it, as recorded.
        self._at: dict[str, int] = {}
        # After a move that is missing or does not match its chain hash (whatever label
        # it really moved), the labels moved since; None: no such move.
        self._since_gap: set[str] | None = None
        self._watch: tuple[int, str | None, str | None] | None = None

    def watch(self, sequence: int) -> None:
        """Remember the recorded chain hash of move ``sequence``."""
        self._watch = (sequence, None, None)

    def chain_hash_at(self) -> tuple[str | None, str | None]:
        """The watched move's recorded chain hash and label (None, None: not read)."""
        return (self._watch[1], self._watch[2]) if self._watch else (None, None)

    def feed(self, row: MoveRow, *, recorded: bool = True) -> None:
        """Check the next move. ``recorded`` false: the row has no chain hash to check
        (a file without hashes); the chain goes on from the one it would have."""
        number, label = row.sequence, row.label
        self.rows += 1
        expected = self.last + 1
        chained = True
        if number != expected:
            chained = False
            self._since_gap = set()
            if number > expected:
                what = (
                    "missing"
                    if number == expected + 1
                    else f"missing, up to label move {number - 1}"
                )
                self._add(expected, f"{what} (found {number} next)")
            else:
                self._add(number, f"out of order: found after label move {self.last}", label)
        link = move_chain_hash(self.head, row.move())
        recomputed = link
        trusted = True
        if not recorded:
            row = row._replace(chain_hash=link)
        elif chained and link != row.chain_hash:
            if self._recomputed != self.head:
                recomputed = move_chain_hash(self._recomputed, row.move())
            if recomputed != row.chain_hash:
                self._add(number, CHAIN_MISMATCH, label)
                recomputed = link
                trusted = False
        elif not chained:
            recomputed = row.chain_hash
        self._continuity(row, trusted)
        if not (_is_version(row.to_version) and row.to_version <= self.versions):
            self._add(
                number,
                f"points {label!r} at version {row.to_version!r}, which the history does not "
                f"hold (it has {self.versions} version(s))",
                label,
            )
        self._signature(number, row.chain_hash, row.signature, label)
        if self._watch is not None and self._watch[0] == number:
            self._watch = (number, row.chain_hash, label)
        self.last, self.head, self._recomputed = number, row.chain_hash, recomputed

    def _continuity(self, row: MoveRow, trusted: bool) -> None:
        label, was = row.label, self._at.get(row.label)
        judged = self._since_gap is None or label in self._since_gap
        if trusted and judged and row.from_version != was:
            self._add(
                row.sequence,
                f"moves {label!r} from version {row.from_version!r}, but "
                + (f"its previous move left it at {was}" if was is not None else "it was not set"),
                label,
            )
        self._at[label] = row.to_version
        if not trusted:
            self._since_gap = set()
        elif self._since_gap is not None:
            self._since_gap.add(label)

    def finish(self) -> list[MoveBreak]:
        """Close the check; all breaks, in order."""
        self._settle_signatures()
        self.breaks.sort(key=lambda b: b.sequence)
        return self.breaks

    def _add(self, number: int, problem: str, tag: Any = None) -> None:
        self.breaks.append(MoveBreak(self.slug, number, tag, problem))


def counted(versions: int, moves: int = 0, events: int = 0) -> str:
    """What a history holds, in words: ``3 version(s), 6 label move(s) and 5 proposal
    event(s)`` (moves and events only when there are some)."""
    parts = [f"{versions} version(s)"]
    if moves:
        parts.append(f"{moves} label move(s)")
    if events:
        parts.append(f"{events} proposal event(s)")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _is_version(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _link(previous: str, row: Row) -> str:
    """The chain hash ``row`` has if it follows a version whose chain hash is ``previous``."""
    return chain_hash(
        previous,
        row.content_hash,
        version=row.version,
        timestamp=row.timestamp,
        reason=row.reason,
        previous_version=row.previous_version,
        created_by=row.created_by,
        # As stored: only a missing value reads as {} (an edited [] or "" must not).
        metadata=row.metadata if row.metadata is not None else {},
    )


def stored_rows(bot_config: BotConfig, *, upto: int | None = None) -> Iterator[Row]:
    """The config's versions oldest first, read a page at a time.

    Each page is a query of its own, after the last number seen: memory stays that of
    one page on every database (MySQL's driver would buffer a whole result set).
    """
    rows = (
        BotConfigVersion.objects.using(bot_config._state.db)
        .filter(bot_config_id=bot_config.pk)
        .order_by("version")
    )
    if upto is not None:
        rows = rows.filter(version__lte=upto)
    for values in _pages(rows, "version", ROW_FIELDS):
        yield Row(*values)


def last_move(bot_config: BotConfig) -> int:
    """The sequence of the config's last label move (0: none).

    Read before the versions, it bounds the moves read after them: a move made meanwhile
    could point at a version written after the versions were read.
    """
    found = (
        BotConfigLabelMove.objects.using(bot_config._state.db)
        .filter(bot_config_id=bot_config.pk)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    return found or 0


def stored_moves(bot_config: BotConfig, *, upto: int | None = None) -> Iterator[MoveRow]:
    """The config's label moves by sequence, read a page at a time."""
    rows = (
        BotConfigLabelMove.objects.using(bot_config._state.db)
        .filter(bot_config_id=bot_config.pk)
        .order_by("sequence")
    )
    if upto is not None:
        rows = rows.filter(sequence__lte=upto)
    for values in _pages(rows, "sequence", MOVE_ROW_FIELDS):
        yield MoveRow(*values)


def _pages(rows: QuerySet[Any], key: str, fields: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    last = 0
    while True:
        page = list(rows.filter(**{f"{key}__gt": last}).values_list(*fields)[:PAGE_SIZE])
        yield from page
        if len(page) < PAGE_SIZE:
            return
        last = page[-1][0]


def last_event(bot_config: BotConfig) -> int:
    """The sequence of the config's last proposal event (0: none); read first, as
    :func:`last_move` is, since an event names versions and label moves."""
    found = (
        BotConfigProposalEvent.objects.using(bot_config._state.db)
        .filter(bot_config_id=bot_config.pk)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    return found or 0


def stored_events(bot_config: BotConfig, *, upto: int | None = None) -> Iterator[EventRow]:
    """The config's proposal events by sequence, read a page at a time, each with its
    ``data`` parsed (and its stored text, to check it is as the app writes it)."""
    rows = (
        BotConfigProposalEvent.objects.using(bot_config._state.db)
        .filter(bot_config_id=bot_config.pk)
        .order_by("sequence")
    )
    if upto is not None:
        rows = rows.filter(sequence__lte=upto)
    for sequence, proposal, kind, timestamp, actor, text, link, signature in _pages(
        rows, "sequence", EVENT_ROW_FIELDS
    ):
        data = parse_data(text)
        yield EventRow(sequence, proposal, kind, timestamp, actor, data, link, signature, text)


def stored_summaries(bot_config: BotConfig) -> dict[int, Summary]:
    """The config's proposal summary rows by number (small rows: no configs)."""
    rows = (
        BotConfigProposal.objects.using(bot_config._state.db)
        .filter(bot_config_id=bot_config.pk)
        .values_list(*SUMMARY_FIELDS)
    )
    return {values[0]: Summary(*values) for values in rows.iterator()}


def versions_of(bot_config: BotConfig) -> VersionsOf:
    """Looks up versions' (config, metadata) by number, for the proposal checks."""

    def look(numbers: Collection[int]) -> dict[int, tuple[Any, Any]]:
        rows = (
            BotConfigVersion.objects.using(bot_config._state.db)
            .filter(bot_config_id=bot_config.pk, version__in=sorted(numbers))
            .values_list("version", "config", "metadata")
        )
        return {number: (config, metadata) for number, config, metadata in rows}

    return look


def moves_of(bot_config: BotConfig) -> MovesOf:
    """Looks up label moves' (label, to_version) by sequence, for the proposal checks."""

    def look(sequences: Collection[int]) -> dict[int, tuple[str, int]]:
        rows = (
            BotConfigLabelMove.objects.using(bot_config._state.db)
            .filter(bot_config_id=bot_config.pk, sequence__in=sorted(sequences))
            .values_list("sequence", "label", "to_version")
        )
        return {sequence: (label, to) for sequence, label, to in rows}

    return look


def check_history(
    bot_config: BotConfig, *, signing_key: str | None = None, checkpoint: Mark | None = None
) -> HistoryReport:
    """Every break in ``bot_config``'s history, its label moves and its proposal events
    (and against its ``checkpoint`` mark)."""
    # Read first, the heads bound what is read after them: an event or a move made
    # meanwhile could name a version (a move) written after those were read.
    events_upto = last_event(bot_config)
    moves_upto = last_move(bot_config)
    summaries = stored_summaries(bot_config)
    checker = ChainChecker(bot_config.slug, signing_key=signing_key)
    if checkpoint is not None:
        checker.watch(checkpoint.version)
    for row in stored_rows(bot_config):
        checker.feed(row)
    moves = MoveChecker(bot_config.slug, checker.last, signing_key=signing_key)
    if checkpoint is not None and checkpoint.moves:
        moves.watch(checkpoint.moves)
    for move in stored_moves(bot_config, upto=moves_upto):
        moves.feed(move)
    events = ProposalChecker(
        bot_config.slug,
        checker.last,
        versions_of=versions_of(bot_config),
        moves_of=moves_of(bot_config),
        signing_key=signing_key,
        summaries=dict(summaries),
        policy=settings.REVIEW,
        when=created_at,
    )
    if checkpoint is not None and checkpoint.events:
        events.watch(checkpoint.events)
    for event in stored_events(bot_config, upto=events_upto):
        events.feed(event)
    report = HistoryReport(
        config_id=bot_config.pk,
        slug=bot_config.slug,
        archived=bot_config.archived_at is not None,
        current_version=bot_config.current_version,
        signatures=checker.signatures,
        versions=checker.rows,
        chain_hash=checker.head,
        breaks=checker.finish(bot_config.current_version),
        checkpoint=checkpoint,
        moves=moves.rows,
        move_chain_hash=moves.head,
        move_breaks=moves.finish(),
        move_signatures=moves.signatures,
        events=events.rows,
        event_chain_hash=events.head,
        proposals=len(summaries),
        event_breaks=_not_since(bot_config, events.finish(), events_upto),
        event_signatures=events.signatures,
    )
    if checkpoint is not None:
        _compare(report, checkpoint, checker.last, checker.chain_hash_at())
        _compare_moves(report, checkpoint, moves.last, *moves.chain_hash_at())
        _compare_events(report, checkpoint, events.last, *events.chain_hash_at())
    return report


def _not_since(
    bot_config: BotConfig, breaks: list[ProposalBreak], upto: int
) -> list[ProposalBreak]:
    """``breaks`` but those of summary rows rewritten by a step recorded after the
    events were counted (a summary is read after that count, and may be ahead of it)."""
    summaries = {b.proposal for b in breaks if b.sequence is None and b.proposal is not None}
    if not summaries:
        return breaks
    moved = set(
        BotConfigProposalEvent.objects.using(bot_config._state.db)
        .filter(bot_config_id=bot_config.pk, sequence__gt=upto, proposal__in=summaries)
        .values_list("proposal", flat=True)
    )
    if not moved:
        return breaks
    return [b for b in breaks if b.sequence is not None or b.proposal not in moved]


def _compare(report: HistoryReport, mark: Mark, last: int, recorded: str | None) -> None:
    if mark.version == 0:
        report.checkpoint_matches = True
        return
    problem = None
    if last < mark.version:
        problem = (
            f"the checkpoint recorded {mark.version} version(s), the history now ends at "
            f"{last}: versions were cut from its end"
        )
    elif recorded is None:
        problem = "missing, though the checkpoint recorded it"
    elif recorded != mark.chain_hash:
        problem = (
            "its chain hash differs from the checkpoint's: the history up to here was "
            "rewritten and re-chained"
        )
    report.checkpoint_matches = problem is None
    if problem is not None:
        report.breaks.append(Break(report.slug, mark.version, problem))
        report.breaks.sort(key=lambda b: b.version)


def _compare_moves(
    report: HistoryReport, mark: Mark, last: int, recorded: str | None, label: str | None
) -> None:
    """As :func:`_compare`, for the label moves a checkpoint recorded (none recorded in a
    checkpoint written before label moves were: nothing to compare)."""
    if not mark.moves:
        return
    problem = None
    if last < mark.moves:
        problem = (
            f"the checkpoint recorded {mark.moves} label move(s), the moves now end at "
            f"{last}: moves were cut from their end"
        )
    elif recorded is None:
        problem = "missing, though the checkpoint recorded it"
    elif recorded != mark.move_chain_hash:
        problem = (
            "its chain hash differs from the checkpoint's: the label moves up to here were "
            "rewritten and re-chained"
        )
    if problem is not None:
        report.checkpoint_matches = False
        report.move_breaks.append(MoveBreak(report.slug, mark.moves, label, problem))
        report.move_breaks.sort(key=lambda b: b.sequence)


def _compare_events(
    report: HistoryReport, mark: Mark, last: int, recorded: str | None, proposal: int | None
) -> None:
    """As :func:`_compare_moves`, for the proposal events a checkpoint recorded."""
    if not mark.events:
        return
    problem = None
    if last < mark.events:
        problem = (
            f"the checkpoint recorded {mark.events} proposal event(s), the events now end "
            f"at {last}: events were cut from their end"
        )
    elif recorded is None:
        problem = "missing, though the checkpoint recorded it"
    elif recorded != mark.event_chain_hash:
        problem = (
            "its chain hash differs from the checkpoint's: the proposal events up to here "
            "were rewritten and re-chained"
        )
    if problem is not None:
        report.checkpoint_matches = False
        report.event_breaks.append(ProposalBreak(report.slug, mark.events, proposal, problem))
        report.event_breaks.sort(key=ProposalBreak.order)


def verify_history(bot_config: BotConfig) -> Break | MoveBreak | ProposalBreak | None:
    """The first break in ``bot_config``'s history (its versions first, then its label
    moves, then its proposal events), or None if it verifies.

    Signatures are checked when ``CONFIG_VERSIONS["SIGNING_KEY"]`` is set.
    """
    breaks = check_history(bot_config, signing_key=settings.SIGNING_KEY).all_breaks
    return breaks[0] if breaks else None
