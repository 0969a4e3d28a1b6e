"""Where versions live. A store reads and appends; it holds no versioning rules."""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from config_versions.core.errors import StoreConflict
from config_versions.core.version import ConfigVersion


@runtime_checkable
class VersionStore(Protocol):
    """Storage for one config's history.

    Every read returns fresh objects the caller may mutate freely. ``append`` is a
    compare-and-set: it stores ``version`` only if it directly follows the current
    head (``version.version == current + 1``), otherwise it raises
    :class:`~config_versions.core.errors.StoreConflict` carrying the real head.

    Two optional attributes tell the manager what a store can do:

    - ``keeps_key_order = False``: the backend does not keep the key order of JSON
      objects (PostgreSQL's jsonb). The manager then encodes each config once, with
      sorted keys, and passes its hash to ``append``.
    - ``copies_in_place = True``: ``append`` with ``copy_of`` and an empty ``encoded``
      copies that version's config and content hash itself, and raises
      ``ValueError("Version N not found")`` if there is none. A rollback with no
      validator to run then never reads the config; the version it returns reads it
      on first use.
    """

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
    ) -> None:
        """Store ``version``; ``encoded`` is its config as JSON text.

        ``copy_of`` says the config is identical to that stored version's, so a store
        may copy it in place instead of writing ``encoded``. ``content_hash``, when
        given, is the SHA-256 of the config's canonical JSON, already computed by the
        manager.
        """
        ...


class InMemoryStore:
    """The seed document's storage: a list in the process, gone when it exits."""

    copies_in_place = True  # a rollback reuses the stored text

    def __init__(self) -> None:
        # Configs are kept as JSON text: decoding it hands every reader a
        # private copy, faster than copy.deepcopy of the dict would.
        self._rows: list[tuple[ConfigVersion, str]] = []

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
    ) -> None:
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
                raise ValueError(f"Version {copy_of} not found")
            encoded = self._rows[copy_of - 1][1]
        self._rows.append((frozen, encoded))

    @staticmethod
    def _thaw(row: tuple[ConfigVersion, str]) -> ConfigVersion:
        head, encoded = row
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
