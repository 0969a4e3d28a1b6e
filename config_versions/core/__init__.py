"""The framework-free versioning core: no Django, no settings, plain Python values."""

from __future__ import annotations

from config_versions.core.diff import diff_configs, to_json_patch
from config_versions.core.errors import (
    ConfigArchivedError,
    ConfigExistsError,
    InvalidConfigError,
    MergeConflictError,
    NoConfigError,
    ProposalError,
    ProposalNotFoundError,
    ProposalStateError,
    ReviewRefusedError,
    ReviewRequiredError,
    StoreConflict,
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.events import LabelMoved, ProposalRecorded, VersionWritten
from config_versions.core.labels import LATEST, LabelMove, UnchangedLabelMove
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.merge import MergePreview, apply_changes, three_way_merge
from config_versions.core.proposals import Proposal, ProposalEvent, ReviewPolicy
from config_versions.core.review import AppliedProposal
from config_versions.core.stores import (
    InMemoryStore,
    LabelStore,
    ProposalStore,
    StoreBase,
    VersionStore,
)
from config_versions.core.version import ConfigVersion, UnchangedVersion

__all__ = [
    "LATEST",
    "AppliedProposal",
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
    "Proposal",
    "ProposalError",
    "ProposalEvent",
    "ProposalNotFoundError",
    "ProposalRecorded",
    "ProposalStateError",
    "ProposalStore",
    "ReviewPolicy",
    "ReviewRefusedError",
    "ReviewRequiredError",
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
