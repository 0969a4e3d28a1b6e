"""The framework-free versioning core: no Django, no settings, plain Python values."""

from __future__ import annotations

from config_versions.core.diff import diff_configs, to_json_patch
from config_versions.core.errors import (
    InvalidConfigError,
    MergeConflictError,
    StoreConflict,
    VersionConflictError,
)
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.merge import apply_changes, three_way_merge
from config_versions.core.store import InMemoryStore, VersionStore
from config_versions.core.version import ConfigVersion

__all__ = [
    "ConfigVersion",
    "ConfigVersionManager",
    "InMemoryStore",
    "InvalidConfigError",
    "MergeConflictError",
    "StoreConflict",
    "VersionConflictError",
    "VersionStore",
    "apply_changes",
    "diff_configs",
    "three_way_merge",
    "to_json_patch",
]
