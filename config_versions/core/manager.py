"""The versioning rules, in one place, for every store.

Long because it is the one home of every rule (create once, no-op writes, conflicts,
rollback metadata, default reasons, field limits, merges, label moves and time
travel), each with its async twin,
as DESIGN.md asks. What is not a rule lives apart: the JSON encoding and hashing in
``jsondata``, text-field checks in ``fields``, the three-way merge in ``merge``, and
storage behind the protocol in ``stores``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any, ParamSpec, TypeVar, cast

from config_versions.core.diff import diff_configs
from config_versions.core.errors import (
    ConfigExistsError,
    InvalidConfigError,
    MergeConflictError,
    NoConfigError,
    ReviewRequiredError,
    StoreConflict,
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.events import Event, LabelMoved, Listener, VersionWritten
from config_versions.core.fields import check_text
from config_versions.core.jsondata import (
    content_hash,
    inspect_json,
    json_depth,
    normalize_config,
    sha256_hex,
)
from config_versions.core.labels import (
    LATEST,
    LabelMove,
    UnchangedLabelMove,
    as_timestamp,
    check_label,
    is_version_number,
)
from config_versions.core.merge import MergePreview, three_way_merge
from config_versions.core.proposals import Proposal, ReviewPolicy
from config_versions.core.review import AppliedProposal, ReviewRules
from config_versions.core.stores import (
    InMemoryStore,
    LabelledStore,
    LabelStore,
    ProposalStore,
    VersionStore,
)
from config_versions.core.version import (
    VERSION_FIELDS,
    ConfigVersion,
    CopiedConfigVersion,
    UnchangedVersion,
)

logger = logging.getLogger("config_versions")

Validator = Callable[[dict[str, Any]], None]
P = ParamSpec("P")
R = TypeVar("R")

# Writers without expected_version that lose a race wait for the config's lock in
# store.serialized(). Only a store that cannot serialise writers (a custom one) is
# retried instead: after a few lost rounds with a random, growing wait (exponential
# backoff with jitter); 50 rounds wait at most about a second and a half in all.
DEFAULT_MAX_RETRIES = 50
# Limits of the recorded text fields, for every store (a database column or not).
DEFAULT_MAX_REASON_LENGTH = 10_000
MAX_CREATED_BY_LENGTH = 255
_BACKOFF_AFTER = 3
_BACKOFF_BASE = 0.0005  # seconds
_BACKOFF_CAP = 0.032


class _AlreadyCurrent(Exception):
    """A refused config turned out to be the current one: the write is a no-op."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


class ConfigVersionManager(ReviewRules):
    """Create, update, roll back and inspect the versions of one configuration.

    With no arguments it keeps history in memory, exactly as the seed document shows.
    Given a store (``bot.version_manager`` gives one bound to the database) it keeps
    the same rules on that storage. ``validators`` are called with every config about
    to become a version (create, update, rollback) and raise to refuse it. ``clock``
    gives each new version its timestamp (``time.time`` by default; a replay of
    recorded history or a demo can pass its own). ``listeners`` are called with a
    :class:`~config_versions.core.events.VersionWritten` after each new version and a
    :class:`~config_versions.core.events.LabelMoved` after each label move. ``labels``
    names the labels that may be used (besides ``latest``); None allows any slug.
    ``review`` is the :class:`~config_versions.core.proposals.ReviewPolicy` of
    proposals (``propose``, ``review_proposal``, ``apply_proposal``, in
    ``core.review``); its labels move only by applying an approved proposal.

    A write that would change nothing (an update to the current config, a rollback to
    a version whose config is the current one) writes nothing and returns the current
    version with ``unchanged`` set.
    """

    def __init__(
        self,
        store: VersionStore | None = None,
        *,
        validators: Sequence[Validator] = (),
        max_config_bytes: int | None = None,
        max_depth: int | None = None,
        max_reason_length: int = DEFAULT_MAX_REASON_LENGTH,
        max_retries: int = DEFAULT_MAX_RETRIES,
        clock: Callable[[], float] = time.time,
        listeners: Sequence[Listener] = (),
        labels: Collection[str] | None = None,
        review: ReviewPolicy | None = None,
    ) -> None:
        self._store: VersionStore = store if store is not None else InMemoryStore()
        self.clock = clock
        self.validators = list(validators)
        self.max_config_bytes = max_config_bytes
        self.max_depth = max_depth
        self.max_reason_length = max_reason_length
        self.max_retries = max_retries
        self.listeners = list(listeners)
        # The label names this manager may use besides ``latest``; None: any slug.
        self.declared_labels = None if labels is None else frozenset(labels)
        self.review_policy = review if review is not None else ReviewPolicy()

    @property
    def store(self) -> VersionStore:
        return self._store

    # Reading -------------------------------------------------------------------

    @property
    def current_version(self) -> int:
        return self._store.current_version()

    @property
    def current_config(self) -> dict[str, Any] | None:
        return self._store.latest_config()

    def get_version(self, version: int) -> ConfigVersion | None:
        return self._store.get(version)

    def get_history(
        self, limit: int | None = None, since_version: int | None = None
    ) -> list[ConfigVersion]:
        """Versions newest first; ``since_version`` keeps only the ones after it."""
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        return self._store.history(limit=limit, since_version=since_version)

    def __len__(self) -> int:
        return self._store.count()

    def diff(self, from_version: int, to_version: int) -> dict[str, Any]:
        """Differences between two versions.

        ``added``/``removed``/``changed`` keep the seed's top-level shape; ``changes``
        lists every nested difference with a JSON Pointer path.
        """
        old = self._require(from_version)
        new = self._require(to_version)
        result = {"from_version": from_version, "to_version": to_version}
        result.update(diff_configs(old.config, new.config))
        return result

    # Writing -------------------------------------------------------------------

    def create(
        self,
        config: dict[str, Any],
        reason: str = "Initial configuration",
        created_by: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ConfigVersion:
        meta = self._check_fields(reason, created_by, metadata)
        data, encoded, content = self._prepare_hashed(config)
        version = ConfigVersion(
            version=1,
            config=data,
            timestamp=self.clock(),
            reason=reason,
            previous_version=None,
            created_by=created_by,
            metadata=meta,
        )
        try:
            self._store.append(version, encoded=encoded, content_hash=content)
        except StoreConflict:
            raise ConfigExistsError() from None
        logger.info("Created configuration version 1: %s", reason)
        self._notify(VersionWritten(version))
        # Stores keep the encoded text, so ``version`` is already the caller's own.
        return version

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        """Apply every rule a new version must pass, writing nothing.

        Returns the private, normalised copy that would be stored; raises what
        ``create``/``update`` would raise for the config itself.
        """
        data, _ = self._prepare(config)
        return data

    def update(
        self,
        config: dict[str, Any],
        reason: str = "Configuration update",
        created_by: str | None = None,
        metadata: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> ConfigVersion:
        meta = self._check_fields(reason, created_by, metadata)
        try:
            data, encoded, content = self._prepare_hashed(config, may_be_current=True)
        except _AlreadyCurrent as same:
            if expected_version is not None and expected_version != same.version:
                raise self._conflict(expected_version, same.version) from None
            return self._unchanged(same.version)
        return self._append_next(
            lambda current: ConfigVersion(
                version=current + 1,
                config=data,
                timestamp=self.clock(),
                reason=reason,
                previous_version=current,
                created_by=created_by,
                metadata=meta,
            ),
            encoded=encoded,
            expected_version=expected_version,
            content_hash=content,
        )

    def rollback(
        self,
        to_version: int,
        reason: str | None = None,
        created_by: str | None = None,
        expected_version: int | None = None,
    ) -> ConfigVersion:
        """A new version carrying the config of ``to_version``; history is kept.

        If that config is already the current one, nothing is written and the current
        version comes back with ``unchanged`` set.
        """
        if isinstance(to_version, bool) or not isinstance(to_version, int) or to_version < 1:
            raise VersionNotFoundError(to_version)
        rollback_reason = reason or f"Rollback to version {to_version}"
        self._check_fields(rollback_reason, created_by, None)

        def build(current: int, data: dict[str, Any] | None) -> ConfigVersion:
            fields: dict[str, Any] = {
                "version": current + 1,
                "timestamp": self.clock(),
                "reason": rollback_reason,
                "previous_version": current,
                "created_by": created_by,
                "metadata": {"rollback_from": current, "rollback_to": to_version},
            }
            if data is None:
                return CopiedConfigVersion(partial(self._config_of, to_version), **fields)
            return ConfigVersion(config=data, **fields)

        store = self._store
        if not self.validators and store.copies_in_place:
            # No rule needs the config in Python (the limits held when it was written):
            # the store copies it, and its content hash, in place; it raises
            # VersionNotFoundError if there is no such version.
            return self._append_next(
                lambda current: build(current, None),
                encoded="",
                expected_version=expected_version,
                copy_of=to_version,
            )
        target = store.get(to_version)
        if target is None:
            raise VersionNotFoundError(to_version)
        # Stores hand out fresh objects: the target's config needs checking, not copying.
        try:
            data, encoded, content = self._prepare_hashed(
                target.config, copy=False, may_be_current=True
            )
        except _AlreadyCurrent as same:
            if expected_version is not None and expected_version != same.version:
                raise self._conflict(expected_version, same.version) from None
            return self._unchanged(same.version)
        return self._append_next(
            lambda current: build(current, data),
            encoded=encoded,
            expected_version=expected_version,
            copy_of=to_version,
            content_hash=content,
        )

    def save(
        self,
        config: dict[str, Any],
        reason: str | None = None,
        created_by: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        expected_version: int | None = None,
        base_version: int | None = None,
    ) -> ConfigVersion:
        """Create or update: the one save path of editors (the admin) and the API.

        Writes the first version if there is none, else the next one. With
        ``expected_version`` the write happens only over that version
        (:class:`VersionConflictError` otherwise); with ``base_version`` (the version
        the editor started from) edits made since are kept by a three-way merge
        (:meth:`merge`). 0 for either means "I saw no version". A blank ``reason``
        takes the default ("Initial configuration" or "Configuration update"). A save
        that changes nothing writes nothing (``unchanged`` is set on the result).
        """
        if expected_version is not None and base_version is not None:
            raise TypeError("Give expected_version or base_version, not both")
        if base_version:
            return self.merge(
                config, base_version, reason or "Configuration update", created_by, metadata
            )
        pinned = expected_version if expected_version is not None else base_version
        if pinned == 0 or (pinned is None and self._store.current_version() == 0):
            try:
                return self.create(config, reason or "Initial configuration", created_by, metadata)
            except ConfigExistsError:
                if pinned == 0:  # someone wrote the first version meanwhile
                    raise self._conflict(0, self._store.current_version()) from None
        return self.update(
            config,
            reason or "Configuration update",
            created_by,
            metadata,
            expected_version=pinned,
        )

    def merge(
        self,
        config: dict[str, Any],
        base_version: int,
        reason: str = "Configuration update",
        created_by: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ConfigVersion:
        """Save ``config``, edited from ``base_version``, without losing edits made since.

        If the current version is still ``base_version`` this is a plain update. If not,
        the edits from ``base_version`` to ``config`` are applied on top of the current
        config (a three-way merge) and recorded in metadata as ``merged_from`` /
        ``merged_onto``. Overlapping edits raise :class:`MergeConflictError` naming the
        paths; nothing is written. :meth:`preview_merge` shows the outcome first.
        """
        self._check_fields(reason, created_by, metadata)
        for _attempt in range(self.max_retries):
            preview = self.preview_merge(config, base_version)
            if preview.merged is None:
                raise MergeConflictError(
                    f"Cannot merge edits made from version {base_version} onto version "
                    f"{preview.onto_version}: both changed {', '.join(preview.conflicts)}",
                    expected_version=base_version,
                    actual_version=preview.onto_version,
                    conflicts=preview.conflicts,
                )
            note: dict[str, Any] = {}
            if preview.onto_version != base_version:
                note = {"merged_from": base_version, "merged_onto": preview.onto_version}
            try:
                return self.update(
                    preview.merged,
                    reason=reason,
                    created_by=created_by,
                    metadata={**(metadata or {}), **note},
                    expected_version=preview.onto_version,
                )
            except VersionConflictError:
                continue  # someone saved while we merged: merge again onto theirs
        raise RuntimeError(f"Gave up merging after {self.max_retries} conflicting attempts")

    def preview_merge(self, config: dict[str, Any], base_version: int) -> MergePreview:
        """What :meth:`merge` would write, and what stands in its way; writes nothing."""
        base = self._require(base_version)
        ours, _ = self._prepare(config)
        current = self._store.latest()
        if current is None:  # pragma: no cover - base_version exists, so one does
            raise NoConfigError()
        if current.version == base_version:
            return MergePreview(base_version, current.version, ours, [])
        merged, conflicts = three_way_merge(base.config, ours, current.config)
        return MergePreview(base_version, current.version, None if conflicts else merged, conflicts)

    # Labels --------------------------------------------------------------------

    def set_label(
        self,
        name: str,
        version: int,
        reason: str = "",
        created_by: str | None = None,
        expected_version: int | None = None,
    ) -> LabelMove:
        """Point label ``name`` at ``version``; return the recorded move.

        ``expected_version`` is the version the label must point at now (0: not set
        yet), else :class:`VersionConflictError`. A version this history does not hold
        raises :class:`VersionNotFoundError`; a name that is not a declared label (or
        is ``latest``) :class:`UnknownLabelError`; a label the review policy names
        :class:`ReviewRequiredError` (it moves by ``apply_proposal``). Moving a label to
        the version it already points at writes nothing and returns its last move with
        ``unchanged``.
        """
        name = self._check_label(name, movable=True)
        if self.review_policy.requires_review(name):
            raise ReviewRequiredError(name)
        if not is_version_number(version):
            raise VersionNotFoundError(version)
        if expected_version is not None and (
            isinstance(expected_version, bool)
            or not isinstance(expected_version, int)
            or expected_version < 0
        ):
            raise TypeError("expected_version must be a version number, or 0 for 'not set'")
        self._check_fields(reason, created_by, None)
        store = self._labels_store()
        with store.serialized() as head:
            if version > head:
                raise VersionNotFoundError(version)
            last = store.label_head(name)
            current = last.to_version if last is not None else None
            if expected_version is not None and (current or 0) != expected_version:
                raise VersionConflictError(
                    f"Label conflict: expected {name!r} at {expected_version or 'not set'}, "
                    f"but it is at {current or 'not set'}",
                    expected_version=expected_version,
                    actual_version=current or 0,
                )
            if last is not None and current == version:
                return UnchangedLabelMove(**vars(last))
            move = store.append_label_move(
                LabelMove(
                    label=name,
                    from_version=current,
                    to_version=version,
                    timestamp=self.clock(),
                    reason=reason,
                    created_by=created_by,
                )
            )
        logger.info("Moved label %s from %s to version %d", name, current, version)
        self._notify(LabelMoved(move))
        return move

    def get_label(self, name: str) -> int | None:
        """The version label ``name`` points at; None while it is not set."""
        name = self._check_label(name)
        if name == LATEST:
            return self._store.current_version() or None
        move = self._labels_store().label_head(name)
        return move.to_version if move is not None else None

    @property
    def labels(self) -> dict[str, int]:
        """Where every label that has been set points now (``latest`` not included)."""
        heads = self.label_heads()
        return {name: move.to_version for name, move in sorted(heads.items())}

    def resolve(self, label: str = LATEST, as_of: object = None) -> ConfigVersion | None:
        """The version ``label`` points at, or pointed at at time ``as_of`` (a Unix
        timestamp or an aware datetime); None if it was not set (or no version existed)
        then. ``latest`` as of a time is the newest version written by then."""
        name = self._check_label(label)
        when = None if as_of is None else as_timestamp(as_of)
        store = self._labels_store()
        if name == LATEST:
            return self._store.latest() if when is None else store.version_at(when)
        move = store.label_head(name) if when is None else store.label_at(name, when)
        return None if move is None else self._store.get(move.to_version)

    def label_history(self, name: str | None = None) -> list[LabelMove]:
        """The moves of label ``name`` (of every label if None), newest first."""
        if name is not None:
            name = self._check_label(name, movable=True)
        return self._labels_store().label_moves(name)

    def label_heads(self) -> dict[str, LabelMove]:
        """The last move of every label that has been set: where it points, since
        when, by whom and why."""
        return self._labels_store().label_heads()

    def _check_label(self, name: object, *, movable: bool = False) -> str:
        return check_label(name, self.declared_labels, movable=movable)

    def _labels_store(self) -> LabelledStore:
        store = self._store
        if not isinstance(store, LabelStore):
            raise TypeError(f"{type(store).__name__} keeps no labels (see core.stores.LabelStore)")
        return cast(LabelledStore, store)

    # Serialisation -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every version, oldest first, and (when there are any) every label move
        under ``label_moves`` and every proposal event under ``proposal_events``, oldest
        first."""
        versions = self._store.all_versions()
        data: dict[str, Any] = {
            "current_version": versions[-1].version if versions else 0,
            "versions": [v.to_dict() for v in versions],
        }
        if isinstance(self._store, LabelStore):
            moves = self._store.label_moves()
            if moves:
                data["label_moves"] = [move.to_dict() for move in reversed(moves)]
        if isinstance(self._store, ProposalStore):
            events = self._store.proposal_events()
            if events:
                data["proposal_events"] = [event.to_dict() for event in events]
        return data

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], store: VersionStore | None = None, **options: Any
    ) -> ConfigVersionManager:
        """Rebuild a manager from :meth:`to_dict` output, keeping every recorded field.

        Versions must be numbered 1..N without gaps (a dump of any manager is); the
        target store must be empty.
        """
        manager = cls(store, **options)
        raw_versions = data.get("versions", [])
        if not isinstance(raw_versions, list):
            raise ValueError("'versions' must be a list of version objects")
        for expected_number, raw in enumerate(raw_versions, start=1):
            if not isinstance(raw, Mapping):
                raise ValueError(f"Version entry {expected_number} is not an object")
            try:
                version = ConfigVersion.from_dict(dict(raw))
            except KeyError as exc:
                raise ValueError(f"Version entry {expected_number} has no {exc} field") from None
            if version.version != expected_number:
                raise ValueError(
                    f"Version entry {expected_number} has number {version.version!r}; "
                    "versions must be numbered 1, 2, 3 ... without gaps"
                )
            config, encoded = normalize_config(version.config)
            reason = str(version.reason or "")
            restored = ConfigVersion(
                version=version.version,
                config=config,
                timestamp=float(version.timestamp),
                reason=reason,
                previous_version=version.previous_version,
                created_by=version.created_by,
                metadata=manager._check_fields(reason, version.created_by, version.metadata),
            )
            try:
                manager._store.append(restored, encoded=encoded)
            except StoreConflict as exc:
                raise ValueError(
                    f"The target already holds {exc.actual_version} version(s)"
                ) from None
            manager._notify(VersionWritten(restored))
        manager._restore_label_moves(data.get("label_moves", []), len(raw_versions))
        manager._restore_proposal_events(data.get("proposal_events", []), len(raw_versions))
        return manager

    def _restore_label_moves(self, raw_moves: object, versions: int) -> None:
        """Replay recorded label moves (``from_dict``), checking that each follows the
        one before it; a move carrying a chain hash must keep it."""
        if not isinstance(raw_moves, list):
            raise ValueError("'label_moves' must be a list of move objects")
        if not raw_moves:
            return
        store = self._labels_store()
        pointers: dict[str, int] = {}
        for number, raw in enumerate(raw_moves, start=1):
            where = f"Label move {number}"
            if not isinstance(raw, Mapping):
                raise ValueError(f"{where} is not an object")
            try:
                move = LabelMove.from_dict(dict(raw))
            except KeyError as exc:
                raise ValueError(f"{where} has no {exc} field") from None
            try:
                name = self._check_label(move.label, movable=True)
            except UnknownLabelError as exc:
                raise ValueError(f"{where}: {exc}") from None
            if move.sequence not in (0, number):
                raise ValueError(f"{where} has number {move.sequence!r}; moves go 1, 2 ...")
            if not is_version_number(move.to_version) or move.to_version > versions:
                raise ValueError(f"{where} points at version {move.to_version!r}: not held")
            if move.from_version is not None and not is_version_number(move.from_version):
                raise ValueError(f"{where} moves {name!r} from {move.from_version!r}: no version")
            if move.from_version != pointers.get(name):
                raise ValueError(
                    f"{where} moves {name!r} from {move.from_version!r}, but it was at "
                    f"{pointers.get(name)!r}"
                )
            self._check_fields(move.reason, move.created_by, None)
            timestamp = move.timestamp
            if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
                raise ValueError(f"{where} has no numeric timestamp")
            stored = store.append_label_move(
                LabelMove(
                    label=name,
                    from_version=move.from_version,
                    to_version=move.to_version,
                    timestamp=float(timestamp),
                    reason=move.reason,
                    created_by=move.created_by,
                )
            )
            if move.chain_hash and stored.chain_hash != move.chain_hash:
                raise ValueError(f"{where}: its recorded fields do not match its chain hash")
            pointers[name] = move.to_version
            self._notify(LabelMoved(stored))

    # Async twins, for async callers such as the seed's ConfigBot save tool --------

    async def acreate(self, *args: Any, **kwargs: Any) -> ConfigVersion:
        return await self._async(self.create)(*args, **kwargs)

    async def aupdate(self, *args: Any, **kwargs: Any) -> ConfigVersion:
        return await self._async(self.update)(*args, **kwargs)

    async def arollback(self, *args: Any, **kwargs: Any) -> ConfigVersion:
        def rollback_loaded() -> ConfigVersion:
            version = self.rollback(*args, **kwargs)
            _ = version.config  # a copied config is read here, not later in async code
            return version

        return await self._async(rollback_loaded)()

    async def amerge(self, *args: Any, **kwargs: Any) -> ConfigVersion:
        return await self._async(self.merge)(*args, **kwargs)

    async def asave(self, *args: Any, **kwargs: Any) -> ConfigVersion:
        return await self._async(self.save)(*args, **kwargs)

    async def aget_version(self, version: int) -> ConfigVersion | None:
        return await self._async(self.get_version)(version)

    async def aget_history(
        self, limit: int | None = None, since_version: int | None = None
    ) -> list[ConfigVersion]:
        return await self._async(self.get_history)(limit, since_version)

    async def acurrent_version(self) -> int:
        return await self._async(self._store.current_version)()

    async def acurrent_config(self) -> dict[str, Any] | None:
        return await self._async(lambda: self.current_config)()

    async def adiff(self, from_version: int, to_version: int) -> dict[str, Any]:
        return await self._async(self.diff)(from_version, to_version)

    async def alen(self) -> int:
        return await self._async(self._store.count)()

    async def aset_label(self, *args: Any, **kwargs: Any) -> LabelMove:
        return await self._async(self.set_label)(*args, **kwargs)

    async def aget_label(self, name: str) -> int | None:
        return await self._async(self.get_label)(name)

    async def alabels(self) -> dict[str, int]:
        return await self._async(lambda: self.labels)()

    async def aresolve(self, label: str = LATEST, as_of: object = None) -> ConfigVersion | None:
        return await self._async(self.resolve)(label, as_of)

    async def alabel_history(self, name: str | None = None) -> list[LabelMove]:
        return await self._async(self.label_history)(name)

    async def apropose(self, *args: Any, **kwargs: Any) -> Proposal:
        return await self._async(self.propose)(*args, **kwargs)

    async def areview_proposal(self, *args: Any, **kwargs: Any) -> Proposal:
        return await self._async(self.review_proposal)(*args, **kwargs)

    async def aapply_proposal(self, *args: Any, **kwargs: Any) -> AppliedProposal:
        return await self._async(self.apply_proposal)(*args, **kwargs)

    # Internals -----------------------------------------------------------------

    def _async(self, func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        # A store doing blocking I/O (the database) runs it in a thread; the in-memory
        # store does none, so its calls run inline.
        return self._store.to_async(func)

    def _notify(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    def _append_next(
        self,
        build: Callable[[int], ConfigVersion],
        *,
        encoded: str,
        expected_version: int | None,
        copy_of: int | None = None,
        content_hash: str | None = None,
    ) -> ConfigVersion:
        """Append the version ``build(current)`` makes after the head ``current``.

        First in one step, after the head as last seen (no lock, no extra read). A
        writer that lost the race to another one (and did not pin ``expected_version``)
        then waits its turn in ``store.serialized()``, where it reads the head and
        appends with every other writer held off: it never gives up because others
        write.
        """
        if expected_version is not None:
            current = expected_version
        else:
            known = self._store.last_known_version()
            current = known if known is not None else self._store.current_version()
        if current == 0:
            # Only create() makes version 1; make sure the history really is empty.
            actual = self._store.current_version()
            if actual == 0:
                raise NoConfigError()
            if expected_version is not None:
                raise self._conflict(expected_version, actual)
            current = actual
        version = build(current)
        try:
            written = self._store.append(
                version,
                encoded=encoded,
                copy_of=copy_of,
                content_hash=content_hash,
                unless_unchanged=True,
            )
        except StoreConflict as conflict:
            if expected_version is not None and conflict.actual_version != expected_version:
                raise self._conflict(expected_version, conflict.actual_version) from None
            # Lost the race (or the database was busy): wait for the config's lock.
            return self._append_serialized(
                build,
                encoded=encoded,
                expected_version=expected_version,
                copy_of=copy_of,
                content_hash=content_hash,
            )
        return self._written(version, written, current, copy_of)

    def _append_serialized(
        self,
        build: Callable[[int], ConfigVersion],
        *,
        encoded: str,
        expected_version: int | None,
        copy_of: int | None,
        content_hash: str | None,
    ) -> ConfigVersion:
        store = self._store
        # A store that serialises writers needs one round; one that cannot is retried
        # with backoff (exponential, with jitter) a bounded number of times.
        rounds = 1 if store.serializes_writers else self.max_retries
        for attempt in range(rounds):
            try:
                with store.serialized() as current:
                    if current == 0:
                        raise NoConfigError()
                    if expected_version is not None and current != expected_version:
                        raise self._conflict(expected_version, current)
                    version = build(current)
                    written = store.append(
                        version,
                        encoded=encoded,
                        copy_of=copy_of,
                        content_hash=content_hash,
                        unless_unchanged=True,
                    )
            except StoreConflict:
                if store.serializes_writers:  # pragma: no cover - a broken store
                    raise RuntimeError(
                        f"{type(store).__name__} says it serializes writers, yet an append "
                        "inside serialized() lost its number"
                    ) from None
                if attempt >= _BACKOFF_AFTER:
                    ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - _BACKOFF_AFTER))
                    time.sleep(random.uniform(0, ceiling))
                continue
            # Outside the block: its transaction has committed.
            return self._written(version, written, current, copy_of)
        raise RuntimeError(f"Gave up appending a version after {rounds} conflicting attempts")

    def _written(
        self, version: ConfigVersion, written: bool, current: int, copy_of: int | None
    ) -> ConfigVersion:
        if not written:
            return self._unchanged(current)
        logger.info("Created configuration version %d: %s", version.version, version.reason)
        self._notify(VersionWritten(version, rollback_to=copy_of))
        return version

    def _unchanged(self, number: int) -> UnchangedVersion:
        found = self._require(number)
        return UnchangedVersion(**{name: getattr(found, name) for name in VERSION_FIELDS})

    @staticmethod
    def _conflict(expected: int, actual: int) -> VersionConflictError:
        return VersionConflictError(
            f"Version conflict: expected {expected}, but current is {actual}",
            expected_version=expected,
            actual_version=actual,
        )

    def _prepare(self, config: object, *, copy: bool = True) -> tuple[dict[str, Any], str]:
        data, encoded, _ = self._prepare_hashed(config, copy=copy)
        return data, encoded

    def _prepare_hashed(
        self, config: object, *, copy: bool = True, may_be_current: bool = False
    ) -> tuple[dict[str, Any], str, str | None]:
        """The checked private copy, the text to store, and its content hash if known.

        A store that does not keep key order (PostgreSQL's jsonb) may as well get the
        canonical text: then one encoding serves for storing and for hashing.
        ``may_be_current``: a validator's refusal of the current config raises
        ``_AlreadyCurrent`` instead (the write will be a no-op).
        """
        if not self._store.keeps_key_order:
            try:
                data, text = normalize_config(
                    config, max_bytes=self.max_config_bytes, copy=copy, canonical=True
                )
            except InvalidConfigError:
                pass  # e.g. keys 1 and "a" do not sort: the general path decides
            else:
                depth, plain_keys = inspect_json(config)
                if plain_keys:
                    self._check(data, depth, may_be_current)
                    return data, text, sha256_hex(text)
        data, encoded = normalize_config(config, max_bytes=self.max_config_bytes, copy=copy)
        self._check(data, json_depth(data) if self.max_depth is not None else 0, may_be_current)
        return data, encoded, None

    def _check(self, data: dict[str, Any], depth: int, may_be_current: bool = False) -> None:
        if self.max_depth is not None and depth > self.max_depth:
            raise InvalidConfigError(
                f"The config is nested deeper than the limit of {self.max_depth} levels."
            )
        for validate in self.validators:
            try:
                validate(data)
            except Exception:
                if not may_be_current:
                    raise
                # Today's rules judge new versions only: a write of the config that is
                # already current writes nothing, so nothing is refused either.
                latest = self._store.latest()
                if latest is not None and content_hash(latest.config) == content_hash(data):
                    raise _AlreadyCurrent(latest.version) from None
                raise

    def _check_fields(
        self, reason: object, created_by: object, metadata: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Check the recorded fields every store keeps; the metadata's private copy."""
        check_text("reason", reason, max_length=self.max_reason_length)
        if created_by is not None:
            check_text("created_by", created_by, max_length=MAX_CREATED_BY_LENGTH)
        if not metadata:
            if metadata is not None and not isinstance(metadata, Mapping):
                raise InvalidConfigError(
                    "metadata must be a JSON object (a dict)", field="metadata"
                )
            return {}
        if not isinstance(metadata, Mapping):
            raise InvalidConfigError("metadata must be a JSON object (a dict)", field="metadata")
        try:
            copied, _ = normalize_config(metadata, max_bytes=self.max_config_bytes)
        except InvalidConfigError as exc:
            message = str(exc).replace("The config", "The metadata")
            raise InvalidConfigError(message, exc.errors, field="metadata") from None
        return copied

    def _config_of(self, number: int) -> dict[str, Any]:
        return self._require(number).config

    def _require(self, number: int) -> ConfigVersion:
        version = self._store.get(number)
        if version is None:
            raise VersionNotFoundError(number)
        return version
