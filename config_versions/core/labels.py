"""Labels: named pointers from a config to one of its versions, moved by recorded events.

A label (``staging``, ``production``) points at one version; ``latest`` is implicit
(always the newest version) and cannot be moved. Every move is a :class:`LabelMove`,
immutable and numbered per config (``sequence`` 1, 2, 3 ... across all its labels), and
chained like versions: each move's ``chain_hash`` covers the one before it, so a move
edited, removed or reordered shows in verification. Where a label points, and where it
pointed at any past time, is read from the moves: nothing is ever rewritten.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeGuard

from config_versions.core.errors import InvalidConfigError, UnknownLabelError
from config_versions.core.jsondata import canonical_json, is_int, sha256_hex

LATEST = "latest"
MAX_LABEL_LENGTH = 50
# A slug, as Django's SlugField takes it.
LABEL_NAME = re.compile(r"[-a-zA-Z0-9_]+")

# The recorded fields of a move, in order: what stores keep, exports carry and the
# chain hash covers (with the previous move's chain hash).
MOVE_FIELDS = (
    "sequence",
    "label",
    "from_version",
    "to_version",
    "timestamp",
    "reason",
    "created_by",
)


@dataclass(frozen=True)
class LabelMove:
    """One move of a label: from ``from_version`` (None: first set) to ``to_version``.

    ``unchanged`` is true only on what a move to the version the label already points
    at returns: the move that set it there, and nothing new was written.
    """

    unchanged: ClassVar[bool] = False

    label: str
    from_version: int | None
    to_version: int
    timestamp: float
    reason: str = ""
    created_by: str | None = None
    sequence: int = 0  # given by the store when written
    chain_hash: str = field(default="", compare=False)

    @property
    def moved_at(self) -> dt.datetime:
        """When the move was made, as an aware datetime in UTC."""
        return dt.datetime.fromtimestamp(self.timestamp, tz=dt.UTC)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*MOVE_FIELDS, "chain_hash")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelMove:
        return cls(
            label=data["label"],
            from_version=data.get("from_version"),
            to_version=data["to_version"],
            timestamp=data["timestamp"],
            reason=data.get("reason", ""),
            created_by=data.get("created_by"),
            sequence=data.get("sequence", 0),
            chain_hash=data.get("chain_hash", ""),
        )


@dataclass(frozen=True)
class UnchangedLabelMove(LabelMove):
    """The label's last move, returned by a move that found nothing to change."""

    unchanged: ClassVar[bool] = True


def check_label_name(name: object, *, movable: bool = False) -> str:
    """Return ``name`` if it can name a label; :class:`UnknownLabelError` if not.

    ``movable``: also refuse ``latest``, which always follows the newest version.
    """
    if not isinstance(name, str) or not LABEL_NAME.fullmatch(name):
        raise UnknownLabelError(
            name,
            f"{name!r} is not a label name: use letters, digits, '-' and '_' "
            f"(at most {MAX_LABEL_LENGTH}).",
        )
    if len(name) > MAX_LABEL_LENGTH:
        raise UnknownLabelError(
            name, f"Label names are at most {MAX_LABEL_LENGTH} characters long."
        )
    if movable and name == LATEST:
        raise UnknownLabelError(
            name, "'latest' always points at the newest version; it cannot be moved."
        )
    return name


def check_label(name: object, declared: Collection[str] | None, *, movable: bool = False) -> str:
    """:func:`check_label_name`, and ``name`` must be ``latest`` or one of ``declared``
    (any slug when ``declared`` is None)."""
    checked = check_label_name(name, movable=movable)
    if declared is not None and checked != LATEST and checked not in declared:
        known = ", ".join([LATEST, *sorted(declared)])
        raise UnknownLabelError(checked, f"Label {checked!r} is not declared (labels: {known}).")
    return checked


def move_chain_hash(previous_chain_hash: str, move: LabelMove) -> str:
    """The chain hash of ``move``, after the config's move with ``previous_chain_hash``
    (``GENESIS`` for its first move)."""
    fields = [getattr(move, name) for name in MOVE_FIELDS]
    # As a float: a clock giving whole seconds (an int) and a float column hash alike.
    fields[MOVE_FIELDS.index("timestamp")] = float(move.timestamp)
    return sha256_hex(previous_chain_hash + "\n" + canonical_json(fields))


def as_timestamp(as_of: object) -> float:
    """A Unix timestamp from ``as_of``: a number of seconds, or an aware datetime."""
    if isinstance(as_of, dt.datetime):
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise InvalidConfigError(
                "as_of must be an aware datetime (with a time zone), or a Unix timestamp.",
                field="as_of",
            )
        return as_of.timestamp()
    if isinstance(as_of, bool) or not isinstance(as_of, int | float):
        raise InvalidConfigError(
            f"as_of must be a Unix timestamp or an aware datetime, not {type(as_of).__name__}.",
            field="as_of",
        )
    value = float(as_of)
    if not math.isfinite(value):
        raise InvalidConfigError("as_of must be a finite number of seconds.", field="as_of")
    return value


def is_version_number(value: object) -> TypeGuard[int]:
    return is_int(value) and value >= 1
