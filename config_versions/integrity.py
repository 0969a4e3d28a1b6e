"""Verification of recorded histories: every break, not only the first.

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

After a break the check goes on from the recorded chain hash, so independent breaks
each show, while one edited row shows once. The same row check serves the import,
which refuses a file at its first break.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from config_versions.checkpoints import Mark
from config_versions.conf import settings
from config_versions.core.jsondata import GENESIS, chain_hash, content_hash
from config_versions.core.signing import signature_matches
from config_versions.core.version import VERSION_FIELDS
from config_versions.models import BotConfig, BotConfigVersion

ROW_FIELDS = (*VERSION_FIELDS, "content_hash", "chain_hash", "signature")
PAGE_SIZE = 500

CONTENT_MISMATCH = "the config does not match its content hash"
CHAIN_MISMATCH = "its recorded fields (or the chain hash before it) do not match its chain hash"
BAD_SIGNATURE = (
    "its signature does not match its chain hash: re-chained, or signed with another key"
)
UNSIGNED_CAUSE = "written without the signing key, or outside the app"


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


@dataclass
class Signatures:
    """How a history's versions are signed. Without a key (``checked`` false) only
    ``signed`` is counted: versions that carry a signature, unchecked."""

    checked: bool
    signed: int = 0  # a valid signature
    covered: int = 0  # none, but a signed version comes later: vouched for by it
    unsigned: int = 0  # none, and no version of the history is signed
    missing: int = 0  # none, after a signed version: breaks
    bad: int = 0  # a signature that does not match: breaks

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "signed": self.signed,
            "covered": self.covered,
            "unsigned": self.unsigned,
            "missing": self.missing,
            "bad": self.bad,
        }

    def __str__(self) -> str:
        if not self.checked:
            return f"{self.signed} carry a signature (not checked)" if self.signed else ""
        if not (self.signed or self.bad):
            return "not signed (written before a signing key was set)"
        parts = [f"{self.signed} signed"]
        if self.covered:
            parts.append(f"{self.covered} older covered by the first signed one")
        if self.missing:
            parts.append(f"{self.missing} unsigned after a signed one")
        if self.bad:
            parts.append(f"{self.bad} bad signature(s)")
        return ", ".join(parts)


@dataclass
class HistoryReport:
    """The verdict on one config's history."""

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

    @property
    def ok(self) -> bool:
        return not self.breaks

    def mark(self) -> Mark:
        """Where the history stands now, for a checkpoint."""
        return Mark(self.config_id, self.slug, self.versions, self.chain_hash)

    def as_dict(self) -> dict[str, Any]:
        checkpoint = None
        if self.checkpoint is not None:
            checkpoint = {
                "version": self.checkpoint.version,
                "chain_hash": self.checkpoint.chain_hash,
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
            "checkpoint": checkpoint,
        }


class ChainChecker:
    """Checks the rows of one history as they come, oldest first.

    ``breaks`` grows as rows are fed; :meth:`finish` adds what only the end can tell.
    """

    def __init__(self, slug: str, *, signing_key: str | None = None) -> None:
        self.slug = slug
        self.key = signing_key or None
        self.breaks: list[Break] = []
        self.signatures = Signatures(checked=self.key is not None)
        self.rows = 0
        self.last = 0  # number of the last row fed
        self.head = GENESIS  # its recorded chain hash
        # The chain hash the last row should have had, when it differs from the recorded
        # one: the next row may have been chained to either (an edited hash column).
        self._recomputed = GENESIS
        self._signed_at: int | None = None  # the last version carrying a signature
        self._pending = 0  # unsigned versions before the first signature
        self._run: tuple[int, int] | None = None  # unsigned versions after a signed one
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
        if self.key is not None:
            self._check_signature(number, row.chain_hash, row.signature)
        elif row.signature:
            self.signatures.signed += 1
        if self._watch is not None and self._watch[0] == number:
            self._watch = (number, row.chain_hash)
        self.last, self.head, self._recomputed = number, row.chain_hash, recomputed

    def _check_signature(self, number: int, link: str, signature: str | None) -> None:
        assert self.key is not None
        if signature:
            self._close_run()
            if signature_matches(self.key, link, signature):
                self.signatures.signed += 1
            else:
                self.signatures.bad += 1
                self._add(number, BAD_SIGNATURE)
            self._signed_at = number
        elif self._signed_at is None:
            self._pending += 1
        else:
            self.signatures.missing += 1
            start = self._run[0] if self._run else number
            self._run = (start, number)

    def _close_run(self) -> None:
        if self._run is None:
            return
        first, last = self._run
        signed = self._signed_at
        if first == last:
            problem = f"no signature, though version {signed} before it is signed"
        else:
            problem = (
                f"no signature on versions {first} to {last}, though version {signed} "
                "before them is signed"
            )
        self._add(first, f"{problem}: {UNSIGNED_CAUSE}")
        self._run = None

    def finish(self, current_version: int) -> list[Break]:
        """Close the check against the config's ``current_version``; all breaks, in order."""
        self._close_run()
        if self._signed_at is not None:
            self.signatures.covered = self._pending
        else:
            self.signatures.unsigned = self._pending
        if self.last != current_version:
            self._add(
                max(current_version, self.last),
                f"current_version is {current_version} but the history ends at {self.last}",
            )
        self.breaks.sort(key=lambda b: b.version)  # stable: a row's breaks keep their order
        return self.breaks

    def _add(self, version: int, problem: str) -> None:
        self.breaks.append(Break(self.slug, version, problem))


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
    last = 0
    while True:
        page = list(rows.filter(version__gt=last).values_list(*ROW_FIELDS)[:PAGE_SIZE])
        yield from (Row(*values) for values in page)
        if len(page) < PAGE_SIZE:
            return
        last = page[-1][0]


def check_history(
    bot_config: BotConfig, *, signing_key: str | None = None, checkpoint: Mark | None = None
) -> HistoryReport:
    """Every break in ``bot_config``'s history (and against its ``checkpoint`` mark)."""
    checker = ChainChecker(bot_config.slug, signing_key=signing_key)
    if checkpoint is not None:
        checker.watch(checkpoint.version)
    for row in stored_rows(bot_config):
        checker.feed(row)
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
    )
    if checkpoint is not None:
        _compare(report, checkpoint, checker.last, checker.chain_hash_at())
    return report


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


def verify_history(bot_config: BotConfig) -> Break | None:
    """The first break in ``bot_config``'s history, or None if it verifies.

    Signatures are checked when ``CONFIG_VERSIONS["SIGNING_KEY"]`` is set.
    """
    breaks = check_history(bot_config, signing_key=settings.SIGNING_KEY).breaks
    return breaks[0] if breaks else None
