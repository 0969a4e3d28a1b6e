"""Structural diff of two JSON configs, with RFC 6901 paths and an RFC 6902 patch.

``diff_configs`` keeps the seed's top-level summary (``added``/``removed``/``changed``)
and adds ``changes``: every nested difference, ordered so that applying them in
sequence as a JSON patch turns the old config into the new one.

Equality is JSON-strict: ``True``/``1``/``1.0`` and ``0.0``/``-0.0`` are different
values, although Python's ``==`` says otherwise, because they encode (and hash)
differently once stored.

Pure standard library: this module must stay importable without Django.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any, Literal

JSONValue = Any
"""Any value ``json.loads`` can return; kept loose because configs are arbitrary."""

ChangeOp = Literal["add", "remove", "replace"]

__all__ = [
    "ChangeOp",
    "JSONValue",
    "diff_configs",
    "escape_pointer_token",
    "pointer",
    "split_pointer",
    "to_json_patch",
    "unescape_pointer_token",
]

# Canonical text doubles as a strict equality test and as the hashable key the list
# aligner needs. check_circular is off because the caller hands in JSON data (trees).
_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
).encode

# The aligner's work grows with how often each element of one side occurs in the other:
# linear for distinct elements, quadratic for long lists of repeated values (10,000
# small integers take seconds). Past this many candidate matches, a changed run is
# paired positionally instead: still a correct patch, just not a minimal one.
ALIGNMENT_BUDGET = 1_000_000

# "~" must be followed by "0" or "1"; anything else is not a valid RFC 6901 escape.
_BAD_ESCAPE = re.compile(r"~(?![01])")


# JSON Pointer (RFC 6901) -------------------------------------------------------------


def escape_pointer_token(token: str | int) -> str:
    """Escape one reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    text = str(token)
    if "~" in text or "/" in text:
        # "~" first, otherwise the "~" of a fresh "~1" would be escaped again.
        return text.replace("~", "~0").replace("/", "~1")
    return text


def unescape_pointer_token(token: str) -> str:
    """Inverse of :func:`escape_pointer_token`; raises ``ValueError`` on a bad escape."""
    if "~" not in token:
        return token
    if _BAD_ESCAPE.search(token):
        raise ValueError(f"Invalid JSON Pointer escape in {token!r}: '~' must be '~0' or '~1'.")
    # "~1" first: "~01" is an escaped "~" followed by "1", not an escaped "/".
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: str | int) -> str:
    """Build a JSON Pointer: ``pointer()`` is ``""`` (the whole document)."""
    return "".join("/" + escape_pointer_token(token) for token in tokens)


def split_pointer(path: str) -> list[str]:
    """Split a JSON Pointer into unescaped tokens (list indices stay strings)."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"Invalid JSON Pointer {path!r}: it must be empty or start with '/'.")
    return [unescape_pointer_token(token) for token in path[1:].split("/")]


# Public diff API ---------------------------------------------------------------------


def diff_configs(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Differences between two configs.

    Returns ``{"added": {key: new}, "removed": {key: old}, "changed": {key: {"from",
    "to"}}, "changes": [...]}``. The first three only look at top-level keys; each
    entry of ``changes`` is ``{"op", "path", "from", "to"}`` with ``op`` one of
    ``add``/``remove``/``replace`` and ``from``/``to`` ``None`` when absent.
    Values may share structure with the inputs.
    """
    added: dict[str, Any] = {}
    removed: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    for key in sorted(old.keys() | new.keys()):
        path = "/" + escape_pointer_token(key)
        if key not in new:
            removed[key] = old[key]
            changes.append(_change("remove", path, old[key], None))
        elif key not in old:
            added[key] = new[key]
            changes.append(_change("add", path, None, new[key]))
        else:
            before = len(changes)
            _diff_value(old[key], new[key], path, changes)
            if len(changes) > before:
                changed[key] = {"from": old[key], "to": new[key]}
    return {"added": added, "removed": removed, "changed": changed, "changes": changes}


def to_json_patch(
    changes: Sequence[Mapping[str, Any]] | Mapping[str, Any],
) -> list[dict[str, Any]]:
    """RFC 6902 operations for a ``changes`` list, or for a whole ``diff_configs`` result."""
    items: Sequence[Mapping[str, Any]] = (
        changes["changes"] if isinstance(changes, Mapping) else changes
    )
    patch: list[dict[str, Any]] = []
    for change in items:
        op = change["op"]
        if op == "remove":
            patch.append({"op": "remove", "path": change["path"]})
        elif op in ("add", "replace"):
            patch.append({"op": op, "path": change["path"], "value": change["to"]})
        else:
            raise ValueError(f"Unknown change op {op!r} at {change.get('path')!r}.")
    return patch


# Internals ---------------------------------------------------------------------------


# Pending work for the diff loop: a change ready to emit, or (old, new, path) to compare.
_Task = dict[str, Any] | tuple[Any, Any, str]


def _change(op: ChangeOp, path: str, before: Any, after: Any) -> dict[str, Any]:
    return {"op": op, "path": path, "from": before, "to": after}


def _kind(value: Any) -> type:
    """The JSON type of a value: dict, list, or the scalar's own type."""
    cls = type(value)
    if cls is dict or cls is list:
        return cls
    if isinstance(value, Mapping):
        return dict
    if isinstance(value, list | tuple):
        return list
    return cls


def _strict_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: same type all the way down."""
    if a is b:
        return True
    cls = type(a)
    if cls is not type(b):
        # Only a Mapping or sequence subclass can still match its plain counterpart.
        kind = _kind(a)
        return kind is _kind(b) and kind in (dict, list) and _canonical(a) == _canonical(b)
    if cls is dict or cls is list:
        # ``==`` is a cheap C-level filter, but it equates True/1/1.0 inside containers;
        # the canonical text does not.
        return bool(a == b) and _canonical(a) == _canonical(b)
    if cls is float:
        return bool(a == b) and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))
    return bool(a == b)


def _diff_value(a: Any, b: Any, path: str, out: list[dict[str, Any]]) -> None:
    """Append the changes that turn ``a`` into ``b``, depth first, in patch order.

    An explicit stack rather than recursion: a config nested as deeply as the JSON
    encoder accepts (so storable) must not hit Python's recursion limit here.
    """
    stack: list[_Task] = [(a, b, path)]
    while stack:
        task = stack.pop()
        if isinstance(task, dict):
            out.append(task)
            continue
        old, new, where = task
        if _strict_equal(old, new):
            continue
        kind = _kind(old)
        if kind is not _kind(new) or (kind is not dict and kind is not list):
            out.append(_change("replace", where, old, new))
        else:
            tasks = _dict_tasks(old, new, where) if kind is dict else _list_tasks(old, new, where)
            stack.extend(reversed(tasks))


def _dict_tasks(a: Mapping[str, Any], b: Mapping[str, Any], path: str) -> list[_Task]:
    # Sorted keys make the output independent of insertion order, which a database
    # round trip (JSONB) does not preserve; dict operations commute, so any order applies.
    tasks: list[_Task] = []
    for key in sorted(a.keys() | b.keys()):
        sub = path + "/" + escape_pointer_token(key)
        if key not in b:
            tasks.append(_change("remove", sub, a[key], None))
        elif key not in a:
            tasks.append(_change("add", sub, None, b[key]))
        else:
            tasks.append((a[key], b[key], sub))
    return tasks


def _list_tasks(a: Sequence[Any], b: Sequence[Any], path: str) -> list[_Task]:
    """Align the two lists so an insertion or removal is one operation, not a cascade.

    Paths use the index in the partially patched list. Because operations are emitted
    left to right, once the elements before an opcode block are done that list reads
    ``b[:j1] + a[i1:]``: the working index of the block's first element is ``j1``.
    """
    keys_a = [_canonical(item) for item in a]
    keys_b = [_canonical(item) for item in b]
    # Trimming the shared ends keeps the aligner (worst case quadratic) on the
    # usually small middle; the keys are canonical text, so this is strict equality.
    start = 0
    shortest = min(len(a), len(b))
    while start < shortest and keys_a[start] == keys_b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and keys_a[end_a - 1] == keys_b[end_b - 1]:
        end_a -= 1
        end_b -= 1

    middle_a, middle_b = keys_a[start:end_a], keys_b[start:end_b]
    if not middle_a or not middle_b or _alignment_cost(middle_a, middle_b) > ALIGNMENT_BUDGET:
        # A pure insertion or removal needs no alignment; an over-budget middle gets none.
        opcodes = [("replace", start, end_a, start, end_b)]
    else:
        matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        opcodes = [
            (tag, i1 + start, i2 + start, j1 + start, j2 + start)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]

    tasks: list[_Task] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        # Pair a replaced run positionally so a changed field inside an element is
        # reported at its nested path; only the surplus becomes removes or adds.
        paired = min(i2 - i1, j2 - j1)
        tasks += [(a[i1 + k], b[j1 + k], f"{path}/{j1 + k}") for k in range(paired)]
        first = j1 + paired
        # Highest index first, so the indices still to be removed do not shift.
        for k in range(i2 - i1 - paired - 1, -1, -1):
            tasks.append(_change("remove", f"{path}/{first + k}", a[i1 + paired + k], None))
        tasks += [_change("add", f"{path}/{j}", None, b[j]) for j in range(first, j2)]
    return tasks


def _alignment_cost(keys_a: list[str], keys_b: list[str]) -> int:
    """Candidate matches ``SequenceMatcher`` visits per pass over ``keys_a``."""
    occurrences = Counter(keys_b)
    return sum(occurrences[key] for key in keys_a)
