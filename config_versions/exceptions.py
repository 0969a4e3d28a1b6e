"""Errors of the Django layer."""

from __future__ import annotations


class ImmutableVersionError(Exception):
    """Versions are history: they are never changed or deleted one by one."""
