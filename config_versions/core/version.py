"""The immutable value every store returns: one version of a config."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class ConfigVersion:
    """One numbered, immutable snapshot of a configuration.

    Equality and hashing go by version number, as in the seed document, so versions
    of one history can be kept in sets and compared cheaply.
    """

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


class CopiedConfigVersion(ConfigVersion):
    """A version whose config the store copied in place; it is read on first use.

    A rollback with no validator to run copies the target's config inside the database
    without decoding it. Most callers (the admin, a bot comparing ETags) never look at
    the config of the version a rollback returns; one that does pays for one read then,
    like a deferred field of a Django model. The async twins load it before returning.
    """

    _load: Callable[[], dict[str, Any]]
    _loaded: dict[str, Any] | None

    def __init__(
        self,
        load: Callable[[], dict[str, Any]],
        *,
        version: int,
        timestamp: float | None = None,
        reason: str = "",
        previous_version: int | None = None,
        created_by: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        fields = {
            "version": version,
            "timestamp": time.time() if timestamp is None else timestamp,
            "reason": reason,
            "previous_version": previous_version,
            "created_by": created_by,
            "metadata": {} if metadata is None else metadata,
            "_load": load,
            "_loaded": None,
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @property
    def config(self) -> dict[str, Any]:
        loaded = self._loaded
        if loaded is None:
            loaded = self._load()
            object.__setattr__(self, "_loaded", loaded)
        return loaded
