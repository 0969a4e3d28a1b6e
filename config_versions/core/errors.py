"""Exceptions raised by the versioning rules.

Callers tell errors apart by type, never by matching message text. The ``ValueError``
subclasses keep the messages (and the base class) of the seed's manager, so code
written against it keeps working.
"""

from __future__ import annotations


class VersionConflictError(Exception):
    """The caller's ``expected_version`` is not the current version.

    Another writer created a version in the meantime: reload, merge and retry.
    """

    def __init__(self, message: str, expected_version: int, actual_version: int) -> None:
        super().__init__(message)
        self.expected_version = expected_version
        self.actual_version = actual_version


class ConfigExistsError(ValueError):
    """``create()`` on a history that already has its first version."""

    def __init__(
        self, message: str = "Configuration already exists. Use update() to create new versions."
    ) -> None:
        super().__init__(message)


class NoConfigError(ValueError):
    """``update()`` or ``rollback()`` on a history with no version yet."""

    def __init__(
        self,
        message: str = "No configuration exists. Use create() to create the initial version.",
    ) -> None:
        super().__init__(message)


class ConfigArchivedError(ValueError):
    """The config is archived: its history can be read, but no version written."""

    def __init__(self, message: str = "This config is archived; restore it to write.") -> None:
        super().__init__(message)


class VersionNotFoundError(ValueError):
    """A version number that this history does not hold (``.version`` names it)."""

    def __init__(self, version: object) -> None:
        super().__init__(f"Version {version} not found")
        self.version = version


class UnknownLabelError(ValueError):
    """A label name that is not a slug, not declared by the site, or ``latest`` where a
    label must be moved (``.label`` names it)."""

    def __init__(self, label: object, message: str | None = None) -> None:
        super().__init__(message or f"Unknown label {label!r}.")
        self.label = label


class InvalidConfigError(ValueError):
    """A config or a recorded field cannot be stored; nothing was written.

    ``errors`` lists ``(json_pointer, message)`` pairs, one per offending place.
    ``field`` names what was refused: ``"config"`` (the default), or a recorded field
    such as ``"reason"``, ``"created_by"`` or ``"metadata"``.
    """

    def __init__(
        self, message: str, errors: list[tuple[str, str]] | None = None, *, field: str = "config"
    ) -> None:
        super().__init__(message)
        self.errors = errors or [("", message)]
        self.field = field


class StoreConflict(Exception):
    """A store refused an append because the history moved on; the manager decides."""

    def __init__(self, actual_version: int) -> None:
        super().__init__(f"current version is {actual_version}")
        self.actual_version = actual_version


class MergeConflictError(VersionConflictError):
    """Edits made against an older version overlap edits made since; nothing was written.

    ``conflicts`` lists the JSON Pointers both sides changed differently.
    """

    def __init__(
        self, message: str, expected_version: int, actual_version: int, conflicts: list[str]
    ) -> None:
        super().__init__(message, expected_version, actual_version)
        self.conflicts = conflicts


class ProposalError(ValueError):
    """Base of the refusals of the review rules; nothing was written."""


class ProposalNotFoundError(ProposalError):
    """A proposal number this config does not hold (``.proposal`` names it)."""

    def __init__(self, proposal: object) -> None:
        super().__init__(f"Proposal {proposal} not found")
        self.proposal = proposal


class ProposalStateError(ProposalError):
    """The proposal cannot take this step in its status (``.status``): applied twice,
    reviewed after it was withdrawn, applied without enough approvals, an approval of
    a revision that is no longer the current one."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class ReviewRefusedError(ProposalError):
    """The rules refuse this person the step: approving one's own proposal, revising
    someone else's."""


class ReviewRequiredError(ProposalError):
    """A label that moves only by applying an approved proposal (``.label``)."""

    def __init__(self, label: str) -> None:
        super().__init__(
            f"Label {label!r} moves only by applying an approved proposal: propose the "
            "change (proposals/) and have it reviewed."
        )
        self.label = label
