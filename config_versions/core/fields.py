"""Checks of the recorded text fields (reason, author, description), for every store.

A database column and an in-memory list must refuse the same text: a NUL character
(PostgreSQL cannot store it), a lone surrogate (not valid UTF-8, so no database can)
and text over the field's limit.
"""

from __future__ import annotations

from config_versions.core.errors import InvalidConfigError


def check_text(field: str, value: object, *, max_length: int | None) -> str:
    """Return ``value`` if it is text ``field`` may record; raise InvalidConfigError."""
    if not isinstance(value, str):
        raise InvalidConfigError(f"{field} must be text, not {type(value).__name__}.", field=field)
    if max_length is not None and len(value) > max_length:
        raise InvalidConfigError(
            f"{field} is {len(value)} characters long; the limit is {max_length}.",
            field=field,
        )
    if "\x00" in value:
        raise InvalidConfigError(
            f"{field} contains a NUL character (\\u0000), which databases cannot store.",
            field=field,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidConfigError(
            f"{field} contains a lone surrogate character at position {exc.start}, "
            "which is not valid UTF-8.",
            field=field,
        ) from None
    return value
