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
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.events import LabelMoved, VersionWritten
from config_versions.core.labels import LATEST, LabelMove, UnchangedLabelMove
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.merge import MergePreview, apply_changes, three_way_merge
from config_versions.core.stores import InMemoryStore, LabelStore, StoreBase, VersionStore
from config_versions.core.version import ConfigVersion, UnchangedVersion

__all__ = [
    "LATEST",
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
    "StoreConflict",
    "UnchangedLabelMove",
    "UnchangedVersion",
    "UnknownLabelError",
    "VersionConflictError",
    "VersionNotFoundError",
    "VersionStore",
    "VersionWritten",
    "apply_changes",
    "diff_configs",
    "three_way_merge",
    "to_json_patch",
]
