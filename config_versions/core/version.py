"""The immutable value every store returns: one version of a config."""

from __future__ import annotations

import time
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
