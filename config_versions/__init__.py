"""Immutable, diffable version history for bot configurations.

The names exported here come from the framework-free core: importing them needs
no Django settings (and does not import Django at all).
"""

from __future__ import annotations

from config_versions.core import (
    ConfigArchivedError,
    ConfigExistsError,
    ConfigVersion,
    ConfigVersionManager,
    InMemoryStore,
    InvalidConfigError,
    LabelMove,
    LabelMoved,
    LabelStore,
    MergeConflictError,
    MergePreview,
    NoConfigError,
    StoreBase,
    UnchangedLabelMove,
    UnchangedVersion,
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
    VersionStore,
    VersionWritten,
)

__all__ = [
    "ConfigArchivedError",
    "ConfigExistsError",
    "ConfigVersion",
    "ConfigVersionManager",
    "InMemoryStore",
    "InvalidConfigError",
    "LabelMove",
    "LabelMoved",
    "LabelStore",
    "MergeConflictError",
    "MergePreview",
    "NoConfigError",
    "StoreBase",
    "UnchangedLabelMove",
    "UnchangedVersion",
    "UnknownLabelError",
    "VersionConflictError",
    "VersionNotFoundError",
    "VersionStore",
    "VersionWritten",
]
