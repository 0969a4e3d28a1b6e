"""Canonical JSON: the one encoding that copies, hashes and size limits agree on."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from itertools import chain
from typing import Any, NoReturn, TypeGuard

from config_versions.core.errors import InvalidConfigError

# The "previous chain hash" of version 1: every history's chain starts here.
GENESIS = ""

_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# Keeps the caller's key order: what users wrote is what they read back.
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# A SHA-256 digest as the history records it: 64 lowercase hex digits.
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def is_int(value: object) -> TypeGuard[int]:
    """An int of JSON: not a bool (True is an int subclass, not a number there)."""
    return isinstance(value, int) and not isinstance(value, bool)


def refuse_constant(name: str) -> NoReturn:
    """``json.load(parse_constant=...)``: NaN and Infinity are not JSON; refuse them."""
    raise ValueError(f"{name} is not JSON")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: equal data always encodes to equal text."""
    return _canonical.encode(value)


def content_hash(config: Any) -> str:
    return sha256_hex(canonical_json(config))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(
    previous_chain_hash: str,
    content_hash: str,
    *,
    version: int,
    timestamp: float,
    reason: str,
    previous_version: int | None,
    created_by: str | None,
    metadata: Mapping[str, Any],
) -> str:
    """Hash linking a version to its predecessor.

    It covers the content hash rather than the config, so a store can copy a config
    (a rollback) without decoding it and still extend the chain.
    """
    before, after = chain_text_around(
        previous_chain_hash,
        version=version,
        timestamp=timestamp,
        reason=reason,
        previous_version=previous_version,
        created_by=created_by,
        metadata=metadata,
    )
    return sha256_hex(before + content_hash + after)


def chain_text_around(
    previous_chain_hash: str,
    *,
    version: int,
    timestamp: float,
    reason: str,
    previous_version: int | None,
    created_by: str | None,
    metadata: Mapping[str, Any],
) -> tuple[str, str]:
    """The text ``chain_hash`` hashes, as the parts before and after the content hash.

    The text is the canonical JSON of ``[previous chain hash, content hash, version,
    timestamp (repr), reason, previous version, created by, metadata]``. A content hash
    is hex and needs no escaping, so a database that has the content hash but not the
    config can finish the text and hash it itself (a rollback copied in SQL).
    """
    before = canonical_json([previous_chain_hash])[:-1] + ',"'
    rest = canonical_json(
        [version, repr(float(timestamp)), reason, previous_version, created_by, metadata]
    )
    return before, '",' + rest[1:]


def normalize_config(
    config: object, *, max_bytes: int | None = None, copy: bool = True, canonical: bool = False
) -> tuple[dict[str, Any], str]:
    """Return a private copy of ``config`` as plain JSON data, and its compact JSON text.

    Going through JSON both deep-copies (faster than ``copy.deepcopy``) and proves the
    value can be stored by any backend: what comes back is what a database would return.
    ``copy=False`` checks and encodes only, for a config that is already private JSON
    data (one a store just returned). ``canonical=True`` encodes with sorted keys.
    """
    if not isinstance(config, Mapping):
        raise InvalidConfigError(
            f"A config must be a JSON object (a dict), not {type(config).__name__}."
        )
    try:
        text = (_canonical if canonical else _compact).encode(config)
    except RecursionError as exc:
        raise InvalidConfigError("The config is nested too deeply to store.") from exc
    except (ValueError, TypeError) as exc:  # NaN / Infinity, a cycle, a set or an object
        raise InvalidConfigError(f"The config is not valid JSON data: {exc}.") from exc
    # A literal backslash-u0000 in a string also matches; _find_nul tells them apart.
    if "\\u0000" in text and (path := _find_nul(config, "")):
        raise InvalidConfigError(
            "The config contains a NUL character (\\u0000), which databases cannot store.",
            [(path, "contains a NUL character (\\u0000)")],
        )
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        where = _find_unencodable(config, "")
        raise InvalidConfigError(
            "The config contains a lone surrogate character, which is not valid UTF-8.",
            [(where, "contains a lone surrogate character")],
        ) from None
    if max_bytes is not None and size > max_bytes:
        raise InvalidConfigError(
            f"The config is larger than the limit of {max_bytes} bytes (measured as compact JSON)."
        )
    if not copy:
        return dict(config), text
    copied: dict[str, Any] = json.loads(text)
    return copied, text


def _find_nul(value: Any, path: str) -> str:
    return _find_text(value, path, lambda text: "\x00" in text)


def _find_unencodable(value: Any, path: str) -> str:
    return _find_text(value, path, _not_utf8)


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _find_text(value: Any, path: str, bad: Callable[[str], bool]) -> str:
    """JSON Pointer of the first string (key or value) for which ``bad`` is true."""
    from config_versions.core.diff import escape_pointer_token

    if isinstance(value, str):
        return path if bad(value) else ""
    items: list[tuple[Any, Any]] = []
    if isinstance(value, Mapping):
        for key, child in value.items():
            sub = f"{path}/{escape_pointer_token(str(key))}"
            if bad(str(key)):
                return sub
            items.append((sub, child))
    elif isinstance(value, list | tuple):
        items = [(f"{path}/{index}", child) for index, child in enumerate(value)]
    for sub, child in items:
        found = _find_text(child, sub, bad)
        if found:
            return found
    return ""


def inspect_json(value: Any) -> tuple[int, bool]:
    """``json_depth`` of ``value``, and whether every key of its objects is a ``str``.

    For data that is known to encode as JSON (no cycles). Keys that are not strings
    (``{1: "a"}``) become strings in JSON text, so such data does not sort, and hence
    hash, like the data read back; callers use this to know when the encoding of the
    value itself may serve as the canonical one.
    """
    depth = 0
    objects: list[Mapping[Any, Any]] = []
    level = [value]
    while level:
        containers = [v for v in level if isinstance(v, dict | list | tuple)]
        if not containers:
            break
        depth += 1
        level = []
        for container in containers:
            if isinstance(container, dict):
                objects.append(container)
                level += container.values()
            else:
                level += container
    try:
        "".join(chain.from_iterable(objects))  # TypeError at the first key that is no str
    except TypeError:
        return depth, False
    return depth, True


def json_depth(value: Any) -> int:
    """Nesting depth of containers: ``{}`` is 1, ``{"a": []}`` is 2; scalars are 0."""
    return inspect_json(value)[0]
