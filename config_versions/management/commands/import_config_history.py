"""import_config_history: a new config from an export, checked before anything is written.

Long because a file is checked through and through before anything is written: three
chains (versions, label moves and proposal events), every field, four formats.

A ``config_versions.history/4`` export carries every version's content and chain hash
and the head's chain hash, every label move with its chain hash and the last move's
(``label_chain_hash``), and every proposal event with its chain hash and the last
event's (``proposal_chain_hash``). Every hash is recomputed from the recorded fields, and the
file is refused, whole, at the first version that no longer matches (a config, reason,
author, timestamp or metadata edited), when versions were reordered, renumbered or cut
(numbers not 1..N, a count that is not the file's ``current_version``, a chain that does
not end at its head), and when any field is not what a database can hold. Label moves
likewise: a move edited, removed, added or reordered, a move that does not start where
its label's previous move left it or points at a version the file does not hold, a
chain that does not end at ``label_chain_hash``. Proposal events likewise (an event
edited, removed, added or reordered, a chain that does not end at
``proposal_chain_hash``), and each must be a step a manager could have written after
the ones before it (``proposal_integrity``): no review of a proposal never submitted,
no apply of a revision not approved, an apply naming the version it wrote. The message
is one line naming the first problem; nothing is written. ``/3`` files (the same without
proposal events) and ``/2`` files (without label moves too) are checked the same way.

Older files carry no hashes (format ``/1``, plain ``ConfigVersionManager.to_dict()``
dumps): nothing in them can be checked, so they are imported only with ``--unverified``.

The versions, moves and events are written through the store like any other: numbers,
timestamps, reasons, authors, metadata and event data as recorded, the chains
recomputed (and checked to end at the file's heads), and signed with this site's key;
each proposal's summary row is what its events add up to. Signatures in the
file are not copied: they are another site's, or stale. A to_dict() dump's label moves
carry chain hashes without their versions': with ``--unverified`` those are checked
all the same.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction

from config_versions.conf import settings
from config_versions.core.errors import InvalidConfigError, UnknownLabelError
from config_versions.core.fields import check_text
from config_versions.core.jsondata import (
    GENESIS,
    SHA256_HEX,
    is_int,
    json_depth,
    normalize_config,
    refuse_constant,
)
from config_versions.core.labels import MOVE_FIELDS, check_label_name
from config_versions.core.manager import MAX_CREATED_BY_LENGTH
from config_versions.core.proposals import EVENT_FIELDS
from config_versions.core.review import MAX_COMMENT_LENGTH
from config_versions.core.version import VERSION_FIELDS
from config_versions.integrity import ChainChecker, MoveChecker, MoveRow, Row, counted
from config_versions.managers import restore_history
from config_versions.models import BotConfig
from config_versions.proposal_integrity import EventRow, ProposalBreak, ProposalChecker
from config_versions.validation import check_schema

VERIFIED = "config_versions.history/4"
NO_EVENTS = "config_versions.history/3"  # verified as /4, but it has no proposal events
NO_MOVES = "config_versions.history/2"  # nor label moves
UNHASHED = "config_versions.history/1"
# 10000-01-01 UTC: no database date column reaches the year 10000.
MAX_TIMESTAMP = 253_402_300_800
NAME_MAX_LENGTH = 200  # BotConfig.name's
MAX_NUMBER = 2_147_483_647  # what a PositiveIntegerField holds on every database
_MISSING = object()
# What a history/2 version must carry: every recorded field, and its hashes.
VERIFIED_FIELDS = (*VERSION_FIELDS, "content_hash", "chain_hash")
# What a history/3 label move must carry.
VERIFIED_MOVE_FIELDS = (*MOVE_FIELDS, "chain_hash")
# What a history/4 proposal event must carry.
VERIFIED_EVENT_FIELDS = (*EVENT_FIELDS, "chain_hash")


class Refused(Exception):
    """The file cannot be imported; the message names the first problem."""


class Command(BaseCommand):
    help = (
        "Create a bot config from an export of export_config_history (format "
        "config_versions.history/4, or /3, /2), recomputing every hash of its versions, "
        "label moves and proposal events and refusing the whole file if anything in it "
        "was edited, reordered or cut, or is a proposal step no manager could have "
        "written. Files without hashes (format /1, plain ConfigVersionManager.to_dict() "
        "dumps) need --unverified. All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON file to read.")
        parser.add_argument("--slug", required=True, help="Slug of the new bot config.")
        parser.add_argument("--name", help="Name (default: the file's, else the slug).")
        parser.add_argument(
            "--unverified",
            action="store_true",
            help="Accept a file that carries no hashes (format /1, a plain to_dict() dump), "
            "which cannot be checked. Files with hashes are always checked.",
        )

    def handle(
        self,
        *args: Any,
        file: str,
        slug: str,
        name: str | None,
        unverified: bool,
        **options: Any,
    ) -> None:
        try:
            count, moves, events = self._import(file, slug, name, unverified)
        except CommandError as exc:
            raise CommandError(_one_line(str(exc))) from None
        self.stdout.write(f"Imported {counted(count, moves, events)} into {slug!r}.")

    def _import(
        self, file: str, slug: str, name: str | None, unverified: bool
    ) -> tuple[int, int, int]:
        document = _read(file)
        if BotConfig.objects.filter(slug=slug).exists():
            raise CommandError(f"A bot config with slug {slug!r} already exists; nothing imported.")
        try:
            history = parse_history(document, unverified=unverified)
            with transaction.atomic():
                bot = BotConfig(
                    slug=slug,
                    name=name or history.name or slug,
                    description=history.description,
                    schema=history.schema,
                )
                bot.full_clean()
                bot.save()
                # History is imported as it was recorded: today's schema and validators
                # judge new versions, not the past.
                manager = restore_history(
                    bot,
                    {
                        "versions": history.versions,
                        "chain_hash": history.head,
                        "label_moves": history.moves,
                        "label_chain_hash": history.move_head,
                        "proposal_events": history.events,
                        "proposal_chain_hash": history.event_head,
                    },
                )
                count = len(manager)
                moves = len(manager.label_history())
                events = len(history.events)
        except Refused as exc:
            raise CommandError(f"{file}: {exc}; nothing imported.") from None
        except (ValueError, InvalidConfigError) as exc:
            raise CommandError(f"{file}: {exc}; nothing imported.") from None
        except ValidationError as exc:
            raise CommandError(f"{file}: {'; '.join(exc.messages)}; nothing imported.") from None
        except RecursionError:
            raise CommandError(f"{file}: nested too deeply; nothing imported.") from None
        except DatabaseError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(
                f"{file}: the database refused it ({first}); nothing imported."
            ) from None
        return count, moves, events


@dataclass(frozen=True)
class History:
    """A file's history, checked: what restore_history writes."""

    versions: list[dict[str, Any]]
    head: str | None  # the chain hash it must end at; None: not verified
    moves: list[dict[str, Any]]
    move_head: str | None  # the chain hash the moves must end at; None: not verified
    events: list[dict[str, Any]]
    event_head: str | None  # the chain hash the events must end at; None: not verified
    name: str | None
    description: str
    schema: Any


def parse_history(document: Any, *, unverified: bool) -> History:
    """Check a parsed file through and through; Refused names the first problem."""
    if not isinstance(document, dict) or not isinstance(document.get("versions"), list):
        raise Refused("not a config history: expected an object with a 'versions' list")
    form = document.get("format", _MISSING)
    if form in (VERIFIED, NO_EVENTS, NO_MOVES):
        verified = True
    elif form in (UNHASHED, _MISSING):
        if not unverified:
            what = f"format {UNHASHED}" if form == UNHASHED else "a plain to_dict() dump"
            raise Refused(
                f"{what} carries no hashes, so nothing in it can be verified; import it "
                "with --unverified to accept it as it stands"
            )
        verified = False
    else:
        raise Refused(f"unknown format {_show(form)}; expected {VERIFIED!r}")
    versions: list[Any] = document["versions"]
    current = document.get("current_version", _MISSING)
    if current is _MISSING and verified:
        raise Refused("no current_version")
    if current is not _MISSING:
        if not is_int(current):
            raise Refused(f"current_version must be a whole number, not {_show(current)}")
        if current != len(versions):
            raise Refused(
                f"the file holds {len(versions)} version(s) but its current_version is "
                f"{_show(current)}: versions were cut or added"
            )
    head = None
    if verified:
        head = document.get("chain_hash")
        if not (isinstance(head, str) and (SHA256_HEX.fullmatch(head) if versions else head == "")):
            raise Refused(f"its head chain_hash {_show(head)} is not a SHA-256 (64 hex digits)")
    name, description, schema = _config_fields(document)

    checker = ChainChecker("")
    clean: list[dict[str, Any]] = []
    for number, raw in enumerate(versions, start=1):
        entry, hashes = _version(raw, number, verified=verified)
        if hashes is not None:
            checker.feed(Row(**entry, content_hash=hashes[0], chain_hash=hashes[1]))
            if checker.breaks:
                found = checker.breaks[0]
                raise Refused(f"version {found.version}: {found.problem}")
        clean.append(entry)
    if verified and checker.head != head:
        raise Refused(
            "the chain does not end at the file's head chain_hash: versions were cut, or "
            "the head was edited"
        )
    moves, move_head = _moves(document, form, len(clean), verified=verified)
    events, event_head = _events(document, form, clean, moves, verified=verified)
    return History(clean, head, moves, move_head, events, event_head, name, description, schema)


def _listed(
    document: dict[str, Any],
    key: str,
    head_key: str,
    form: object,
    older_forms: tuple[str, ...],
    verified: bool,
) -> tuple[list[Any], str | None] | None:
    """The file's list of records under ``key`` and the chain hash it must end at, under
    ``head_key`` (None: not verified); None in a format older than such records."""
    what = key.replace("_", " ")
    raw = document.get(key, _MISSING)
    if form in older_forms:
        if raw is not _MISSING:
            raise Refused(
                f"format {form} has no {what}, yet the file lists {key}; "
                f"expected format {VERIFIED!r}"
            )
        return None
    if raw is _MISSING:
        if verified:
            raise Refused(f"no {key}")
        raw = []
    if not isinstance(raw, list):
        item = key.split("_")[-1][:-1]  # label_moves: move, proposal_events: event
        raise Refused(f"{key} must be a list of {item} objects, not {_show(raw)}")
    head = None
    if verified:
        head = document.get(head_key)
        if not (isinstance(head, str) and (head == "" or SHA256_HEX.fullmatch(head))):
            raise Refused(f"its {head_key} {_show(head)} is not a SHA-256 (64 hex digits)")
    return raw, head


def _moves(
    document: dict[str, Any], form: object, versions: int, *, verified: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """The file's label moves, checked as versions are; and the chain hash they must
    end at (None: not verified)."""
    listed = _listed(document, "label_moves", "label_chain_hash", form, (NO_MOVES,), verified)
    if listed is None:
        return [], GENESIS
    raw_moves, move_head = listed
    checker = MoveChecker("", versions)
    clean: list[dict[str, Any]] = []
    for number, raw in enumerate(raw_moves, start=1):
        entry, chain = _move(raw, number, versions, verified=verified)
        checker.feed(MoveRow(**entry, chain_hash=chain or ""), recorded=chain is not None)
        if checker.breaks:
            found = checker.breaks[0]
            raise Refused(f"{found.where}: {found.problem}")
        clean.append(entry if chain is None else {**entry, "chain_hash": chain})
    if verified and checker.head != move_head:
        raise Refused(
            "the label moves' chain does not end at the file's label_chain_hash: moves were "
            "cut, or the head was edited"
        )
    return clean, move_head


def _move(
    raw: Any, number: int, versions: int, *, verified: bool
) -> tuple[dict[str, Any], str | None]:
    """One label move as restore_history takes it, and its chain hash if it has one."""
    if not isinstance(raw, dict):
        raise Refused(f"label move entry {number} is not an object")
    for name in VERIFIED_MOVE_FIELDS if verified else ("label", "to_version"):
        if name not in raw:
            raise Refused(f"label move entry {number} has no {name!r} field")
    sequence = raw.get("sequence", number)
    if sequence != number or not is_int(sequence):
        raise Refused(
            f"label move entry {number} has number {_show(sequence)}; label moves must be "
            "numbered 1, 2, 3 ... in order: moves were removed, added or reordered"
        )
    label = raw["label"]
    try:
        check_label_name(label, movable=True)
    except UnknownLabelError as exc:
        raise Refused(f"label move {number}: {exc}") from None
    where = f"label move {number} ({label})"
    from_version, to_version = raw.get("from_version"), raw["to_version"]
    if from_version is not None and not (is_int(from_version) and 1 <= from_version <= versions):
        raise Refused(
            f"{where}: from_version must be empty or a version the file holds, not "
            f"{_show(from_version)}"
        )
    if not (is_int(to_version) and 1 <= to_version <= versions):
        raise Refused(
            f"{where}: to_version must be a version the file holds (it has {versions}), "
            f"not {_show(to_version)}"
        )
    reason, created_by = raw.get("reason", ""), raw.get("created_by")
    try:
        check_text("reason", reason, max_length=settings.MAX_REASON_LENGTH)
        if created_by is not None:
            check_text("created_by", created_by, max_length=MAX_CREATED_BY_LENGTH)
    except InvalidConfigError as exc:
        raise Refused(f"{where}: {exc}") from None
    entry = {
        "sequence": number,
        "label": label,
        "from_version": from_version,
        "to_version": to_version,
        "timestamp": _timestamp(raw, where),
        "reason": reason,
        "created_by": created_by,
    }
    chain = raw.get("chain_hash")
    if not verified and chain in (None, ""):
        return entry, None
    if not (isinstance(chain, str) and SHA256_HEX.fullmatch(chain)):
        raise Refused(f"{where}: chain_hash {_show(chain)} is not a SHA-256 (64 hex digits)")
    return entry, chain


def _events(
    document: dict[str, Any],
    form: object,
    versions: list[dict[str, Any]],
    moves: list[dict[str, Any]],
    *,
    verified: bool,
) -> tuple[list[dict[str, Any]], str | None]:
    """The file's proposal events, checked as moves are and as steps a manager could
    have written; and the chain hash they must end at (None: not verified)."""
    listed = _listed(
        document, "proposal_events", "proposal_chain_hash", form, (NO_MOVES, NO_EVENTS), verified
    )
    if listed is None:
        return [], GENESIS
    raw_events, event_head = listed
    by_sequence = {move["sequence"]: (move["label"], move["to_version"]) for move in moves}
    checker = ProposalChecker(
        "",
        len(versions),
        versions_of=lambda numbers: {
            n: (versions[n - 1]["config"], versions[n - 1]["metadata"])
            for n in numbers
            if 1 <= n <= len(versions)
        },
        moves_of=lambda sequences: {s: by_sequence[s] for s in sequences if s in by_sequence},
    )
    clean: list[dict[str, Any]] = []
    for number, raw in enumerate(raw_events, start=1):
        entry, chain = _event(raw, number, verified=verified)
        checker.feed(EventRow(**entry, chain_hash=chain or ""), recorded=chain is not None)
        _refuse_at_break(checker.breaks)
        clean.append(entry if chain is None else {**entry, "chain_hash": chain})
    _refuse_at_break(checker.finish())
    if verified and checker.head != event_head:
        raise Refused(
            "the proposal events' chain does not end at the file's proposal_chain_hash: "
            "events were cut, or the head was edited"
        )
    return clean, event_head


def _refuse_at_break(breaks: list[ProposalBreak]) -> None:
    if breaks:
        found = min(breaks, key=ProposalBreak.order)
        raise Refused(f"{found.where}: {found.problem}")


def _event(raw: Any, number: int, *, verified: bool) -> tuple[dict[str, Any], str | None]:
    """One proposal event as restore_history takes it, and its chain hash if it has one."""
    if not isinstance(raw, dict):
        raise Refused(f"proposal event entry {number} is not an object")
    for name in VERIFIED_EVENT_FIELDS if verified else ("proposal", "kind"):
        if name not in raw:
            raise Refused(f"proposal event entry {number} has no {name!r} field")
    sequence = raw.get("sequence", number)
    if sequence != number or not is_int(sequence):
        raise Refused(
            f"proposal event entry {number} has number {_show(sequence)}; proposal events "
            "must be numbered 1, 2, 3 ... in order: events were removed, added or reordered"
        )
    proposal, kind = raw["proposal"], raw["kind"]
    where = f"proposal event {number}"
    if not (is_int(proposal) and 1 <= proposal <= MAX_NUMBER):
        raise Refused(f"{where}: proposal must be a number from 1, not {_show(proposal)}")
    where += f" (proposal {proposal})"
    if not isinstance(kind, str):
        raise Refused(f"{where}: kind must be text, not {_show(kind)}")
    actor, data = raw.get("actor"), raw.get("data", {})
    if not isinstance(data, dict):
        raise Refused(f"{where}: data must be a JSON object, not {_show(data)}")
    try:
        if actor is not None:
            check_text("actor", actor, max_length=MAX_CREATED_BY_LENGTH)
        _check_data(data)
    except InvalidConfigError as exc:
        raise Refused(f"{where}: {exc}") from None
    entry = {
        "sequence": number,
        "proposal": proposal,
        "kind": kind,
        "timestamp": _timestamp(raw, where),
        "actor": actor,
        "data": data,
    }
    chain = raw.get("chain_hash")
    if not verified and chain in (None, ""):
        return entry, None
    if not (isinstance(chain, str) and SHA256_HEX.fullmatch(chain)):
        raise Refused(f"{where}: chain_hash {_show(chain)} is not a SHA-256 (64 hex digits)")
    return entry, chain


def _check_data(data: dict[str, Any]) -> None:
    """InvalidConfigError if an event's data holds what a database cannot, or more than
    the limits let a manager write."""
    config = data.get("config")
    if isinstance(config, dict):
        normalize_config(config, max_bytes=settings.MAX_CONFIG_BYTES, copy=False)
        if json_depth(config) > settings.MAX_DEPTH:
            raise InvalidConfigError(
                f"the config is nested deeper than the limit of {settings.MAX_DEPTH} levels"
            )
    try:
        normalize_config(data, copy=False)
    except InvalidConfigError as exc:
        raise InvalidConfigError(str(exc).replace("The config", "The data")) from None
    limits = {"reason": settings.MAX_REASON_LENGTH, "comment": MAX_COMMENT_LENGTH}
    for name, limit in limits.items():
        if isinstance(data.get(name), str):
            check_text(name, data[name], max_length=limit)


def _timestamp(raw: dict[str, Any], where: str) -> float:
    """A recorded timestamp (now, in a file without hashes that has none)."""
    timestamp = raw.get("timestamp", _MISSING)
    if timestamp is _MISSING:
        timestamp = time.time()
    if not (
        isinstance(timestamp, int | float)
        and not isinstance(timestamp, bool)
        and 0 <= timestamp < MAX_TIMESTAMP
        and math.isfinite(timestamp)
    ):
        raise Refused(
            f"{where}: timestamp must be a Unix time (seconds since 1970) before the year "
            f"10000, not {_show(timestamp)}"
        )
    return float(timestamp)


def _config_fields(document: dict[str, Any]) -> tuple[str | None, str, Any]:
    name = document.get("name")
    description = document.get("description")
    schema = document.get("schema")
    try:
        if name is not None:
            check_text("name", name, max_length=NAME_MAX_LENGTH)
        if description is not None:
            check_text("description", description, max_length=settings.MAX_DESCRIPTION_LENGTH)
        if isinstance(schema, dict):
            normalize_config(schema, copy=False)
    except InvalidConfigError as exc:
        raise Refused(str(exc).replace("The config", "The schema")) from None
    if schema is not None:
        check_schema(schema)  # ValidationError: the caller's message
    return name or None, description or "", schema


def _version(
    raw: Any, number: int, *, verified: bool
) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """One entry as restore_history takes it, and its (content, chain) hashes if verified."""
    if not isinstance(raw, dict):
        raise Refused(f"version entry {number} is not an object")
    for name in VERIFIED_FIELDS if verified else ("version", "config"):
        if name not in raw:
            raise Refused(f"version entry {number} has no {name!r} field")
    if raw["version"] != number or not is_int(raw["version"]):
        raise Refused(
            f"version entry {number} has number {_show(raw['version'])}; versions must be "
            "numbered 1, 2, 3 ... without gaps"
        )
    where = f"version {number}"
    try:
        config = raw["config"]
        normalize_config(config, max_bytes=settings.MAX_CONFIG_BYTES, copy=False)
        if json_depth(config) > settings.MAX_DEPTH:
            raise Refused(
                f"{where}: the config is nested deeper than the limit of "
                f"{settings.MAX_DEPTH} levels"
            )
        reason = raw.get("reason", "")
        check_text("reason", reason, max_length=settings.MAX_REASON_LENGTH)
        created_by = raw.get("created_by")
        if created_by is not None:
            check_text("created_by", created_by, max_length=MAX_CREATED_BY_LENGTH)
        metadata = raw.get("metadata")
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, dict):
            raise Refused(f"{where}: metadata must be a JSON object, not {_show(metadata)}")
        try:
            normalize_config(metadata, max_bytes=settings.MAX_CONFIG_BYTES, copy=False)
        except InvalidConfigError as exc:
            raise InvalidConfigError(str(exc).replace("The config", "The metadata")) from None
    except InvalidConfigError as exc:
        raise Refused(f"{where}: {exc}") from None
    timestamp = _timestamp(raw, where)
    previous = raw.get("previous_version")
    if previous is not None and not (is_int(previous) and 1 <= previous < number):
        raise Refused(
            f"{where}: previous_version must be empty or an earlier version number, "
            f"not {_show(previous)}"
        )
    entry = {
        "version": number,
        "config": config,
        "timestamp": timestamp,
        "reason": reason,
        "previous_version": previous,
        "created_by": created_by,
        "metadata": metadata,
    }
    if not verified:
        return entry, None
    hashes = raw["content_hash"], raw["chain_hash"]
    for label, value in zip(("content_hash", "chain_hash"), hashes, strict=True):
        if not (isinstance(value, str) and SHA256_HEX.fullmatch(value)):
            raise Refused(f"{where}: {label} {_show(value)} is not a SHA-256 (64 hex digits)")
    return entry, hashes


def _read(file: str) -> Any:
    try:
        with open(file, encoding="utf-8") as handle:
            return json.load(handle, parse_constant=refuse_constant, parse_float=_finite)
    except OSError as exc:
        raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an int of 5,000 digits
        raise CommandError(f"{file} is not valid JSON: {exc}.") from None
    except RecursionError:
        raise CommandError(f"{file} is not valid JSON: nested too deeply.") from None


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity, which no column can hold
        raise ValueError(f"{text[:20]} is too large a number")
    return value


def _show(value: object) -> str:
    """A value for a message: short, and on one line whatever it holds."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        return f"a number of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(message: str) -> str:
    return " ".join(message.splitlines())
