"""The immutable value every store returns: one version of a config."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

# The recorded fields of a version, in order: what stores keep and exports carry.
VERSION_FIELDS = (
    "version",
    "config",
    "timestamp",
    "reason",
    "previous_version",
    "created_by",
    "metadata",
)


@dataclass(frozen=True, eq=False)
class ConfigVersion:
    """One numbered, immutable snapshot of a configuration.

    Equality and hashing go by version number, as in the seed document, so versions
    of one history can be kept in sets and compared cheaply.

    ``unchanged`` is true only on what a write that changed nothing returns (an update
    or rollback to the config that is already current): the current version, and no
    new one was written.
    """

    unchanged: ClassVar[bool] = False

    version: int
    config: dict[str, Any]
    timestamp: float = field(default_factory=time.time)
    reason: str = ""
    previous_version: int | None = None
    created_by: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "config": self.config,
            "timestamp": self.timestamp,
            "reason": self.reason,
            "previous_version": self.previous_version,
            "created_by": self.created_by,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfigVersion:
        return cls(
            version=data["version"],
            config=data["config"],
            timestamp=data.get("timestamp", time.time()),
            reason=data.get("reason", ""),
            previous_version=data.get("previous_version"),
            created_by=data.get("created_by"),
            metadata=data.get("metadata") or {},
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigVersion):
            return NotImplemented
        return self.version == other.version

    def __hash__(self) -> int:
        return hash(self.version)


@dataclass(frozen=True, eq=False)
class UnchangedVersion(ConfigVersion):
    """The current version, returned by a write that found nothing to change."""

    unchanged: ClassVar[bool] = True


class CopiedConfigVersion(ConfigVersion):
    """A version whose config the store copied in place; it is read on first use.

    A rollback with no validator to run copies the target's config inside the database
    without decoding it. Most callers (the admin, a bot comparing ETags) never look at
    the config of the version a rollback returns; one that does pays for one read then,
    like a deferred field of a Django model. The async twins load it before returning.

    ``dataclasses.replace`` works (it passes ``config``, which loads it), and ``repr``
    never loads: it shows ``config=<not loaded>`` until something reads it.
    """

    _load: Callable[[], dict[str, Any]] | None
    _loaded: dict[str, Any] | None

    def __init__(
        self,
        load: Callable[[], dict[str, Any]] | None = None,
        *,
        version: int,
        config: dict[str, Any] | None = None,
        timestamp: float | None = None,
        reason: str = "",
        previous_version: int | None = None,
        created_by: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if load is None and config is None:
            raise TypeError("CopiedConfigVersion needs a loader or a config")
        fields = {
            "version": version,
            "timestamp": time.time() if timestamp is None else timestamp,
            "reason": reason,
            "previous_version": previous_version,
            "created_by": created_by,
            "metadata": {} if metadata is None else metadata,
            "_load": load,
            "_loaded": config,
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @property
    def config(self) -> dict[str, Any]:
        loaded = self._loaded
        if loaded is None:
            assert self._load is not None
            loaded = self._load()
            object.__setattr__(self, "_loaded", loaded)
        return loaded

    def __repr__(self) -> str:
        config = "<not loaded>" if self._loaded is None else repr(self._loaded)
        return (
            f"{type(self).__name__}(version={self.version!r}, config={config}, "
            f"timestamp={self.timestamp!r}, reason={self.reason!r}, "
            f"previous_version={self.previous_version!r}, created_by={self.created_by!r}, "
            f"metadata={self.metadata!r})"
        )
