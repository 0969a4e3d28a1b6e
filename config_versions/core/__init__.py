"""The framework-free versioning core: no Django, no settings, plain Python values."""

from __future__ import annotations

from config_versions.core.diff import diff_configs, to_json_patch
from config_versions.core.errors import (
    ConfigArchivedError,
    ConfigExistsError,
    InvalidConfigError,
    MergeConflictError,
    NoConfigError,
    StoreConflict,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.events import VersionWritten
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.merge import MergePreview, apply_changes, three_way_merge
from config_versions.core.stores import InMemoryStore, StoreBase, VersionStore
from config_versions.core.version import ConfigVersion, UnchangedVersion

__all__ = [
    "ConfigArchivedError",
    "ConfigExistsError",
    "ConfigVersion",
    "ConfigVersionManager",
    "InMemoryStore",
    "InvalidConfigError",
    "MergeConflictError",
    "MergePreview",
    "NoConfigError",
    "StoreBase",
    "StoreConflict",
    "UnchangedVersion",
    "VersionConflictError",
    "VersionNotFoundError",
    "VersionStore",
    "VersionWritten",
    "apply_changes",
    "diff_configs",
    "three_way_merge",
    "to_json_patch",
]
