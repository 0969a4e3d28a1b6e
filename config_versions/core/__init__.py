"""The framework-free versioning core: no Django, no settings, plain Python values."""

from __future__ import annotations

from config_versions.core.diff import diff_configs, to_json_patch
from config_versions.core.errors import InvalidConfigError, StoreConflict, VersionConflictError
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.store import InMemoryStore, VersionStore
from config_versions.core.version import ConfigVersion

__all__ = [
    "ConfigVersion",
    "ConfigVersionManager",
    "InMemoryStore",
    "InvalidConfigError",
    "StoreConflict",
    "VersionConflictError",
    "VersionStore",
    "diff_configs",
    "to_json_patch",
]
