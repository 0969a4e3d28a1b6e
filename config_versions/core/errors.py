"""Exceptions raised by the versioning rules."""

from __future__ import annotations


class VersionConflictError(Exception):
    """The caller's ``expected_version`` is not the current version.

    Another writer created a version in the meantime: reload, merge and retry.
    """

    def __init__(self, message: str, expected_version: int, actual_version: int) -> None:
        super().__init__(message)
        self.expected_version = expected_version
        self.actual_version = actual_version


class InvalidConfigError(ValueError):
    """The config cannot be stored: it is not a JSON object, or not valid JSON data.

    ``errors`` lists ``(json_pointer, message)`` pairs, one per offending place.
    """

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [("", message)]


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
