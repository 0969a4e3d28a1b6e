"""Checkpoint files: where each history stood, kept outside the database.

A checkpoint records, for every config, its id, slug, newest version and that
version's chain hash, and likewise its number of label moves and the last move's chain
hash (``label_moves``, ``label_chain_hash``), and its number of proposal events and the
last event's chain hash (``proposal_events``, ``proposal_chain_hash``). Verifying
``--against`` one later proves the history still reaches that far with the same hashes:
versions, moves or events cut from the end, or a history rewritten and re-chained
before the checkpoint, no longer match it. The chain alone cannot tell, since whoever
rewrites rows can recompute every hash. Checkpoints written before label moves (or
proposal events) were recorded have no such keys; they are read as before, and the
moves (events) are not compared with them.

A config of the checkpoint that is no longer in the database must have been purged,
leaving a tombstone that agrees with the checkpoint (:func:`gone_since`).

With ``CONFIG_VERSIONS["SIGNING_KEY"]`` the file carries an HMAC of its content, so an
edited checkpoint is refused rather than trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config_versions.core.jsondata import SHA256_HEX, canonical_json, is_int, refuse_constant
from config_versions.models import PurgedConfig

FORMAT = "config_versions.checkpoint/1"
# Another domain than the chain signatures': a checkpoint's HMAC can never pass for one.
_DOMAIN = b"config_versions.checkpoint/1:"
_MAX_ID = 2**63 - 1


class CheckpointError(Exception):
    """A checkpoint file that cannot be read or trusted; the message is one line."""


@dataclass(frozen=True)
class Mark:
    """Where one config's history stood: its newest version and that version's chain hash."""

    config_id: int
    slug: str
    version: int
    chain_hash: str
    # The number of label moves and the last one's chain hash; None: not recorded (a
    # checkpoint written before label moves were).
    moves: int | None = None
    move_chain_hash: str = ""
    # Likewise the proposal events; None: not recorded (a checkpoint written before).
    events: int | None = None
    event_chain_hash: str = ""

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.config_id,
            "slug": self.slug,
            "version": self.version,
            "chain_hash": self.chain_hash,
        }
        if self.moves is not None:
            entry["label_moves"] = self.moves
            entry["label_chain_hash"] = self.move_chain_hash
        if self.events is not None:
            entry["proposal_events"] = self.events
            entry["proposal_chain_hash"] = self.event_chain_hash
        return entry


@dataclass(frozen=True)
class Checkpoint:
    path: str
    created_at: str
    marks: dict[int, Mark]  # by config id
    # True: its HMAC matched the key; None: not checked (no key set).
    signature_valid: bool | None


def _sign(key: str, body: dict[str, Any]) -> str:
    message = _DOMAIN + canonical_json(body).encode("utf-8")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def write_checkpoint(path: str, marks: Iterable[Mark], *, created_at: str, key: str | None) -> None:
    """Write the checkpoint atomically (a crash leaves the old file, never half a new one)."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "created_at": created_at,
        "configs": [mark.as_dict() for mark in marks],
    }
    document = {**body, "signature": _sign(key, body)} if key else body
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=2, ensure_ascii=False)
                out.write("\n")
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise CheckpointError(f"Cannot write the checkpoint {path}: {exc.strerror}.") from None


def read_checkpoint(path: str, *, key: str | None) -> Checkpoint:
    """Read and check a checkpoint; CheckpointError (one line) if it is not one, or edited."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle, parse_constant=refuse_constant)
    except OSError as exc:
        raise CheckpointError(f"Cannot read the checkpoint {path}: {exc.strerror}.") from None
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, huge ints
        raise CheckpointError(f"{path} is not a checkpoint: not valid JSON.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint: no format {FORMAT!r}.")
    created_at = document.get("created_at")
    configs = document.get("configs")
    if not isinstance(created_at, str) or not isinstance(configs, list):
        raise CheckpointError(f"{path} is not a checkpoint: created_at or configs missing.")
    signature = document.get("signature")
    valid: bool | None = None
    if key:
        body = {"format": FORMAT, "created_at": created_at, "configs": configs}
        if not isinstance(signature, str):
            raise CheckpointError(
                f"{path} carries no signature, but a SIGNING_KEY is set: it was written "
                "without the key, or edited. Write a new checkpoint."
            )
        if not hmac.compare_digest(_sign(key, body), signature):
            raise CheckpointError(
                f"{path} was edited: its signature does not match its content "
                "(or it was signed with another key)."
            )
        valid = True
    marks: dict[int, Mark] = {}
    for position, entry in enumerate(configs, start=1):
        mark = _mark(entry)
        if mark is None:
            raise CheckpointError(
                f"{path} is not a checkpoint: entry {position} of configs is not "
                "{id, slug, version, chain_hash[, label_moves, label_chain_hash]"
                "[, proposal_events, proposal_chain_hash]}."
            )
        if mark.config_id in marks:
            raise CheckpointError(f"{path} names config id {mark.config_id} twice.")
        marks[mark.config_id] = mark
    return Checkpoint(path=path, created_at=created_at, marks=marks, signature_valid=valid)


def _mark(entry: object) -> Mark | None:
    if not isinstance(entry, dict):
        return None
    config_id, slug = entry.get("id"), entry.get("slug")
    version, chain = entry.get("version"), entry.get("chain_hash")
    if not (is_int(config_id) and 1 <= config_id <= _MAX_ID):
        return None
    if not (is_int(version) and 0 <= version <= _MAX_ID):
        return None
    if not isinstance(slug, str) or not isinstance(chain, str):
        return None
    if not (SHA256_HEX.fullmatch(chain) if version else chain == ""):
        return None
    moves = _count(entry, "label_moves", "label_chain_hash")
    events = _count(entry, "proposal_events", "proposal_chain_hash")
    if moves is None or events is None:
        return None
    return Mark(
        config_id,
        slug,
        version,
        chain,
        moves=moves[0],
        move_chain_hash=moves[1],
        events=events[0],
        event_chain_hash=events[1],
    )


def _count(entry: dict[str, Any], count: str, head: str) -> tuple[int | None, str] | None:
    """An entry's number of moves (events) and the last one's chain hash, (None, "")
    when not recorded (an older checkpoint); None if not valid."""
    if count not in entry and head not in entry:
        return None, ""
    number, link = entry.get(count), entry.get(head)
    if not (is_int(number) and 0 <= number <= _MAX_ID and isinstance(link, str)):
        return None
    if not (SHA256_HEX.fullmatch(link) if number else link == ""):
        return None
    return number, link


@dataclass(frozen=True)
class Gone:
    """A config of a checkpoint that is no longer in the database."""

    mark: Mark
    tombstone: PurgedConfig | None
    problem: str | None  # None: purged, and its tombstone agrees with the checkpoint

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.mark.as_dict(),
            "purged": self.tombstone is not None,
            "problem": self.problem,
        }


def gone_since(marks: list[Mark]) -> list[Gone]:
    """What became of checkpointed configs that are no longer in the database.

    Purged with a tombstone that counts at least the recorded versions (and, at the same
    count, ends at the recorded chain hash): fine. No tombstone, or one that disagrees:
    a problem.
    """
    gone: list[Gone] = []
    for mark in marks:
        tombstone = PurgedConfig.objects.filter(config_id=mark.config_id).order_by("-id").first()
        problem = None
        if tombstone is None:
            problem = (
                f"gone: the checkpoint recorded {mark.version} version(s), and no tombstone "
                "says it was purged"
            )
        elif tombstone.versions < mark.version or (
            tombstone.versions == mark.version and tombstone.last_chain_hash != mark.chain_hash
        ):
            problem = (
                f"purged, but its tombstone ({tombstone.versions} version(s), chain hash "
                f"{tombstone.last_chain_hash[:12] or 'none'}) does not match the checkpoint "
                f"({mark.version} version(s), chain hash {mark.chain_hash[:12]})"
            )
        gone.append(Gone(mark, tombstone, problem))
    return gone
