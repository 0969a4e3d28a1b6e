"""Three-way merge: carry edits made against an older version over to the current one.

The seed document listed "no merge support" as a limitation. Here, when two people
edit from the same version, the second one's edits are applied on top of the first
one's as long as they touch different places. Overlap is judged conservatively: a
change inside a list claims the whole list, because list positions shift under the
other side's insertions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config_versions.core.diff import diff_configs, pointer, split_pointer
from config_versions.core.jsondata import canonical_json


def three_way_merge(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Apply ``base -> ours`` onto ``theirs``.

    Returns ``(merged, conflicts)``; ``conflicts`` names the places (JSON Pointers) both
    sides changed differently, in which case ``merged`` is ``theirs`` unchanged.
    """
    our_changes = _by_scope(base, diff_configs(base, ours)["changes"])
    their_changes = _by_scope(base, diff_configs(base, theirs)["changes"])
    conflicts: list[str] = []
    to_apply: list[dict[str, Any]] = []
    for scope, changes in our_changes.items():
        overlapping = [s for s in their_changes if _overlaps(scope, s)]
        if not overlapping:
            to_apply.extend(changes)
        elif overlapping != [scope] or canonical_json(their_changes[scope]) != canonical_json(
            changes
        ):
            # Canonical text compares as JSON does: false is not 0, 1 is not 1.0.
            conflicts.append(pointer(*scope))
        # else: both sides made exactly the same edit there; it is already in theirs.
    if conflicts:
        return _copy(theirs), sorted(conflicts)
    return apply_changes(theirs, to_apply), []


def apply_changes(
    document: Mapping[str, Any], changes: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Apply ``changes`` (the diff's ``changes`` list) in order to a copy of ``document``."""
    result = _copy(document)
    for change in changes:
        tokens = split_pointer(change["path"])
        if not tokens:
            raise ValueError("A change of the whole document cannot be applied to a config")
        parent: Any = result
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        op = change["op"]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op == "add":
                parent.insert(index, change["to"])
            elif op == "remove":
                del parent[index]
            else:
                parent[index] = change["to"]
        elif op == "remove":
            del parent[last]
        else:
            parent[last] = change["to"]
    return result


def _by_scope(
    base: Mapping[str, Any], changes: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        grouped.setdefault(_scope(base, change["path"]), []).append(dict(change))
    return grouped


def _scope(base: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """The part of the document a change claims: its path, cut at the first list."""
    node: Any = base
    scope: list[str] = []
    for token in split_pointer(path):
        if isinstance(node, list):
            break
        scope.append(token)
        node = node.get(token) if isinstance(node, dict) else None
    return tuple(scope)


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _copy(document: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(document))
    return copied


@dataclass(frozen=True)
class MergePreview:
    """What saving ``ours``, edited from ``base_version``, would make; nothing written.

    ``merged`` is the config the save would write (None when there are conflicts);
    ``conflicts`` names every JSON Pointer both sides changed differently;
    ``onto_version`` is the newest version the edits would land on.
    """

    base_version: int
    onto_version: int
    merged: dict[str, Any] | None
    conflicts: list[str]

    @property
    def clean(self) -> bool:
        return not self.conflicts


def merge_preferring_ours(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> dict[str, Any]:
    """``theirs`` with the edits ``base -> ours`` applied; where both changed, ours win.

    What an editor resolves a merge conflict from: the newest config (``theirs``) with
    everything the editor changed since ``base`` on top, the editor's values taking the
    places both sides changed. Where the merge found no conflict this is exactly
    :func:`three_way_merge`'s result. A place is taken whole: if they replaced ``/a``
    while ours edited ``/a/b``, the result has our ``/a``.
    """
    our_changes = _by_scope(base, diff_configs(base, ours)["changes"])
    their_changes = _by_scope(base, diff_configs(base, theirs)["changes"])
    to_apply: list[dict[str, Any]] = []
    taken: set[tuple[str, ...]] = set()
    for scope, changes in our_changes.items():
        overlapping = [s for s in their_changes if _overlaps(scope, s)]
        if not overlapping:
            to_apply.extend(changes)
        else:
            taken.add(min([scope, *overlapping], key=len))
    result = apply_changes(theirs, to_apply)
    # Outermost first: a place inside one already taken needs nothing more.
    for scope in sorted(taken, key=len):
        if not any(scope[: len(outer)] == outer for outer in taken if len(outer) < len(scope)):
            result = _take(result, ours, scope)
    return result


def value_at(document: Any, path: str) -> tuple[bool, Any]:
    """``(True, value)`` at the JSON Pointer ``path`` in ``document``, else ``(False, None)``."""
    node = document
    for token in split_pointer(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdecimal() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node


def _take(
    result: dict[str, Any], ours: Mapping[str, Any], scope: tuple[str, ...]
) -> dict[str, Any]:
    """``result`` with the place ``scope`` (dict keys only) as it is in ``ours``."""
    found, value = value_at(ours, pointer(*scope))
    if not scope:
        return _copy(ours)
    parent: Any = result
    for token in scope[:-1]:
        # Every outer place is unchanged by them (else it would be the one taken), so
        # it is still an object here.
        parent = parent[token]
    if found:
        parent[scope[-1]] = json.loads(json.dumps(value))
    else:
        parent.pop(scope[-1], None)
    return result
