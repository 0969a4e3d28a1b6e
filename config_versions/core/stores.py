"""Where versions live: the store protocol, its defaults, and the in-memory store.

A store reads and appends; it holds no versioning rules. The manager decides what
to write; a store only makes each append atomic.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any, ParamSpec, Protocol, TypeVar, runtime_checkable

from config_versions.core.errors import StoreConflict, VersionNotFoundError
from config_versions.core.jsondata import GENESIS
from config_versions.core.jsondata import content_hash as config_content_hash
from config_versions.core.labels import LabelMove, move_chain_hash
from config_versions.core.proposals import Proposal, ProposalEvent, event_chain_hash
from config_versions.core.version import ConfigVersion

P = ParamSpec("P")
R = TypeVar("R")


@runtime_checkable
class VersionStore(Protocol):
    """Storage for one config's history.

    Every read returns fresh objects the caller may mutate freely. ``append`` is a
    compare-and-set: it stores ``version`` only if it directly follows the current
    head (``version.version == current + 1``), otherwise it raises
    :class:`~config_versions.core.errors.StoreConflict` carrying the real head.

    Capabilities are declared as attributes (:class:`StoreBase` gives the defaults):

    - ``keeps_key_order``: False when the backend does not keep the key order of JSON
      objects (PostgreSQL's jsonb). The manager then encodes each config once, with
      sorted keys, and passes its hash to ``append``.
    - ``copies_in_place``: True when ``append`` with ``copy_of`` and an empty
      ``encoded`` copies that version's config and content hash itself, raising
      :class:`~config_versions.core.errors.VersionNotFoundError` if there is none. A
      rollback with no validator to run then never reads the config; the version it
      returns reads it on first use.
    - ``serializes_writers``: True when ``serialized()`` really holds every other
      writer of the config off, so that an append inside it cannot conflict. The
      manager's writers without ``expected_version`` wait there after losing a race,
      and never give up; with a store that cannot serialise (False, the default
      ``serialized()`` locks nothing) they retry a bounded number of times.
    - ``to_async(func)``: how to run a blocking call from async code (the in-memory
      store does no I/O and runs it inline).
    """

    @property
    def keeps_key_order(self) -> bool: ...

    @property
    def copies_in_place(self) -> bool: ...

    @property
    def serializes_writers(self) -> bool: ...

    def serialized(self) -> AbstractContextManager[int]:
        """Hold other writers of this config off for the block; yields the head's number."""
        ...

    def to_async(self, func: Callable[P, R]) -> Callable[P, Awaitable[R]]: ...

    def current_version(self) -> int: ...

    def last_known_version(self) -> int | None:
        """The head as last seen by this store object, without I/O; None if unknown."""
        ...

    def latest(self) -> ConfigVersion | None: ...

    def latest_config(self) -> dict[str, Any] | None:
        """The newest version's config alone: what a bot reading its config needs."""
        ...

    def get(self, version: int) -> ConfigVersion | None: ...

    def history(self, *, limit: int | None, since_version: int | None) -> list[ConfigVersion]:
        """Newest first."""
        ...

    def all_versions(self) -> list[ConfigVersion]:
        """Oldest first."""
        ...

    def count(self) -> int: ...

    def append(
        self,
        version: ConfigVersion,
        *,
        encoded: str,
        copy_of: int | None = None,
        content_hash: str | None = None,
        unless_unchanged: bool = False,
    ) -> bool:
        """Store ``version``; ``encoded`` is its config as JSON text. True if written.

        ``copy_of`` says the config is identical to that stored version's, so a store
        may copy it in place instead of writing ``encoded``. ``content_hash``, when
        given, is the SHA-256 of the config's canonical JSON, already computed by the
        manager. ``unless_unchanged``: write nothing and return False if the version
        this one follows is still the newest and has the same content hash; this
        check and the append are one atomic step.
        """
        ...


@runtime_checkable
class LabelStore(Protocol):
    """Storage of a config's label moves, beside its versions (see ``core.labels``).

    Moves are kept in the order written, numbered per config by ``sequence``; each
    stored move carries its chain hash. Reads return fresh objects.
    """

    def version_at(self, as_of: float) -> ConfigVersion | None:
        """The newest version whose timestamp is at or before ``as_of``."""
        ...

    def label_head(self, name: str) -> LabelMove | None:
        """The label's last move (where it points now); None if never set."""
        ...

    def label_heads(self) -> dict[str, LabelMove]:
        """The last move of every label ever set."""
        ...

    def label_at(self, name: str, as_of: float) -> LabelMove | None:
        """The label's last move made at or before ``as_of``."""
        ...

    def label_moves(self, name: str | None = None) -> list[LabelMove]:
        """The moves of ``name`` (of every label if None), newest first."""
        ...

    def append_label_move(self, move: LabelMove) -> LabelMove:
        """Store ``move`` as the config's next move; return it with its ``sequence``
        and ``chain_hash``. The manager checks the rules (inside ``serialized()``);
        a store only numbers and chains the move, atomically, raising
        :class:`~config_versions.core.errors.StoreConflict` if another move took its
        number."""
        ...


class LabelledStore(VersionStore, LabelStore, Protocol):
    """A store of versions and of label moves: what the manager's label rules need."""


@runtime_checkable
class ProposalStore(Protocol):
    """Storage of a config's proposal events (see ``core.proposals``), beside its
    versions and label moves: numbered per config by ``sequence`` and chained."""

    def proposal_events(self, proposal: int | None = None) -> list[ProposalEvent]:
        """The events of ``proposal`` (of every proposal if None), oldest first."""
        ...

    def last_proposal(self) -> int:
        """The highest proposal number used; 0 before the first."""
        ...

    def append_proposal_event(self, event: ProposalEvent, state: Proposal) -> ProposalEvent:
        """Store ``event`` as the config's next one; return it with its ``sequence``
        and ``chain_hash``. ``state`` is the proposal as it stands after the event, for
        a store that keeps a summary of each proposal to list them by. Called by the
        manager inside ``serialized()``."""
        ...


class ReviewedStore(LabelledStore, ProposalStore, Protocol):
    """Versions, label moves and proposals: what the manager's review rules need."""


class StoreBase:
    """Default capabilities; a custom store may subclass this and override them."""

    keeps_key_order = True
    copies_in_place = False
    serializes_writers = False

    @contextmanager
    def serialized(self) -> Iterator[int]:
        yield self.current_version()

    def current_version(self) -> int:  # pragma: no cover - every store defines it
        raise NotImplementedError

    def to_async(self, func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        async def inline(*args: P.args, **kwargs: P.kwargs) -> R:
            return func(*args, **kwargs)

        return inline


class InMemoryStore(StoreBase):
    """The seed document's storage: a list in the process, gone when it exits."""

    copies_in_place = True  # a rollback reuses the stored text
    serializes_writers = True

    def __init__(self) -> None:
        # One lock per history: appends from several threads are checked and made one
        # at a time, and serialized() holds it across a read of the head and an append.
        self._lock = threading.RLock()
        # Configs are kept as JSON text: decoding it hands every reader a private
        # copy, faster than copy.deepcopy of the dict would. Each row also keeps its
        # content hash, which tells an unchanged write apart.
        self._rows: list[tuple[ConfigVersion, str, str]] = []
        # Label moves and proposal events, oldest first (frozen: shared safely; an
        # event's data is copied in and out as JSON text).
        self._moves: list[LabelMove] = []
        self._events: list[tuple[ProposalEvent, str]] = []

    @contextmanager
    def serialized(self) -> Iterator[int]:
        with self._lock:
            yield len(self._rows)

    def current_version(self) -> int:
        return len(self._rows)

    def last_known_version(self) -> int | None:
        return len(self._rows)

    def latest(self) -> ConfigVersion | None:
        return self._thaw(self._rows[-1]) if self._rows else None

    def latest_config(self) -> dict[str, Any] | None:
        if not self._rows:
            return None
        config: dict[str, Any] = json.loads(self._rows[-1][1])
        return config

    def get(self, version: int) -> ConfigVersion | None:
        if isinstance(version, bool) or not isinstance(version, int):
            return None
        if 1 <= version <= len(self._rows):
            return self._thaw(self._rows[version - 1])
        return None

    def history(self, *, limit: int | None, since_version: int | None) -> list[ConfigVersion]:
        rows = self._rows
        if since_version is not None:
            rows = rows[max(since_version, 0) :]
        newest_first = rows[::-1] if limit is None else rows[: -max(limit, 0) - 1 : -1]
        return [self._thaw(row) for row in newest_first]

    def all_versions(self) -> list[ConfigVersion]:
        return [self._thaw(row) for row in self._rows]

    def count(self) -> int:
        return len(self._rows)

    def append(
        self,
        version: ConfigVersion,
        *,
        encoded: str,
        copy_of: int | None = None,
        content_hash: str | None = None,
        unless_unchanged: bool = False,
    ) -> bool:
        with self._lock:
            return self._append(version, encoded, copy_of, content_hash, unless_unchanged)

    def _append(
        self,
        version: ConfigVersion,
        encoded: str,
        copy_of: int | None,
        content_hash: str | None,
        unless_unchanged: bool,
    ) -> bool:
        if version.version != len(self._rows) + 1:
            raise StoreConflict(len(self._rows))
        meta = json.dumps(version.metadata)
        frozen = ConfigVersion(
            version=version.version,
            config={},
            timestamp=version.timestamp,
            reason=version.reason,
            previous_version=version.previous_version,
            created_by=version.created_by,
            metadata=json.loads(meta),
        )
        if copy_of is not None and not encoded:
            if not 1 <= copy_of <= len(self._rows):
                raise VersionNotFoundError(copy_of)
            _, encoded, content_hash = self._rows[copy_of - 1]
        elif content_hash is None:
            content_hash = config_content_hash(version.config)
        if unless_unchanged and self._rows and self._rows[-1][2] == content_hash:
            return False
        self._rows.append((frozen, encoded, content_hash))
        return True

    # Labels --------------------------------------------------------------------

    def version_at(self, as_of: float) -> ConfigVersion | None:
        for row in reversed(self._rows):
            if row[0].timestamp <= as_of:
                return self._thaw(row)
        return None

    def label_head(self, name: str) -> LabelMove | None:
        return next((m for m in reversed(self._moves) if m.label == name), None)

    def label_heads(self) -> dict[str, LabelMove]:
        return {move.label: move for move in self._moves}

    def label_at(self, name: str, as_of: float) -> LabelMove | None:
        return next(
            (m for m in reversed(self._moves) if m.label == name and m.timestamp <= as_of), None
        )

    def label_moves(self, name: str | None = None) -> list[LabelMove]:
        return [m for m in reversed(self._moves) if name is None or m.label == name]

    def append_label_move(self, move: LabelMove) -> LabelMove:
        with self._lock:
            previous = self._moves[-1].chain_hash if self._moves else GENESIS
            numbered = replace(move, sequence=len(self._moves) + 1, chain_hash="")
            stored = replace(numbered, chain_hash=move_chain_hash(previous, numbered))
            self._moves.append(stored)
            return stored

    # Proposals -----------------------------------------------------------------

    def proposal_events(self, proposal: int | None = None) -> list[ProposalEvent]:
        return [
            replace(event, data=json.loads(data))
            for event, data in self._events
            if proposal is None or event.proposal == proposal
        ]

    def last_proposal(self) -> int:
        return max((event.proposal for event, _ in self._events), default=0)

    def append_proposal_event(self, event: ProposalEvent, state: Proposal) -> ProposalEvent:
        with self._lock:
            previous = self._events[-1][0].chain_hash if self._events else GENESIS
            numbered = replace(event, sequence=len(self._events) + 1, chain_hash="")
            stored = replace(numbered, chain_hash=event_chain_hash(previous, numbered))
            self._events.append((replace(stored, data={}), json.dumps(event.data)))
            return replace(stored, data=json.loads(self._events[-1][1]))

    @staticmethod
    def _thaw(row: tuple[ConfigVersion, str, str]) -> ConfigVersion:
        head, encoded, _ = row
        config: dict[str, Any] = json.loads(encoded)
        return ConfigVersion(
            version=head.version,
            config=config,
            timestamp=head.timestamp,
            reason=head.reason,
            previous_version=head.previous_version,
            created_by=head.created_by,
            metadata=json.loads(json.dumps(head.metadata)),
        )
