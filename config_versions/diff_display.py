"""Side-by-side display of a diff: the rows the admin's diff view renders.

The *computation* of what changed is the core's (``core.diff.diff_configs``); this
module only lays it out. Both configs are pretty-printed exactly as
``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`` would, and the
core's ``changes`` are replayed over the two trees to decide which lines sit next to
which: unchanged subtrees are skipped in one step (their line spans are known), so
the work grows with the number of changes, not with the size of the configs. A text
line diff (``difflib``) was measured at 4-15 s on two 1 MB configs; this takes a
fraction of a second.

No HTML here: rows carry plain text and the template escapes it.

Long because (~490 lines, on purpose) the pretty printer, the layout walk
and the row builder share the line spans and block tuples that make it fast; split,
those private structures would become an interface.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, ClassVar, Literal

from config_versions.core.diff import escape_pointer_token

__all__ = ["Cell", "Fold", "Row", "SideBySide", "SummaryItem", "json_lines", "side_by_side"]

CellKind = Literal["equal", "removed", "added"]
_scalar = json.JSONEncoder(ensure_ascii=False).encode
_CLOSE = object()  # marks a pending closing bracket in json_lines' work stack


@dataclass(frozen=True, slots=True)
class Cell:
    """One line of one side; ``changed`` is the part that differs from its partner."""

    number: int
    kind: CellKind
    before: str
    changed: str = ""
    after: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    left: Cell | None
    right: Cell | None
    is_fold: ClassVar[bool] = False

    @property
    def is_change(self) -> bool:
        return (self.left is not None and self.left.kind != "equal") or (
            self.right is not None and self.right.kind != "equal"
        )


@dataclass(frozen=True, slots=True)
class Fold:
    """Unchanged lines left out; ``left_start`` (1-based) names it in ``expand``."""

    left_start: int
    right_start: int
    count: int
    is_fold: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SummaryItem:
    op: str
    path: str
    before: str
    after: str
    anchor: str  # id of the line number cell where the change is shown


@dataclass(frozen=True, slots=True)
class SideBySide:
    rows: list[Row | Fold]
    summary: list[SummaryItem]
    change_count: int
    left_line_count: int
    right_line_count: int

    @property
    def identical(self) -> bool:
        return self.change_count == 0

    @property
    def number_digits(self) -> int:
        """Digits of the longest line number, 3 at least: the width of the number columns."""
        return max(len(str(max(self.left_line_count, self.right_line_count))), 3)


# Pretty printing ------------------------------------------------------------------


def json_lines(value: Any) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """The lines of ``value`` pretty-printed, and each node's line span by JSON Pointer.

    An explicit stack rather than recursion, so any config the store accepted prints.
    Scalars are encoded by type, as the json module would, without its per-call set-up:
    this loop runs for every value of two megabyte-sized configs on each diff page.
    """
    lines: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    append = lines.append
    # (value, path, indent, key prefix, trailing comma)
    stack: list[tuple[Any, str, str, str, str]] = [(value, "", "", "", "")]
    pop, push = stack.pop, stack.append
    while stack:
        node, path, pad, prefix, suffix = pop()
        kind = type(node)
        if kind is str:
            spans[path] = (len(lines), len(lines) + 1)
            append(f"{pad}{prefix}{encode_basestring(node)}{suffix}")
        elif (kind is dict or kind is list) and node:
            spans[path] = (len(lines), -1)
            inner = pad + "  "
            if kind is dict:
                append(f"{pad}{prefix}{{")
                push((_CLOSE, path, "", f"{pad}}}{suffix}", ""))
                keys = sorted(node)
                last = len(keys) - 1
                for index in range(last, -1, -1):
                    key = keys[index]
                    token = (
                        key.replace("~", "~0").replace("/", "~1")
                        if "~" in key or "/" in key
                        else key
                    )
                    push(
                        (
                            node[key],
                            f"{path}/{token}",
                            inner,
                            encode_basestring(key) + ": ",
                            "," if index < last else "",
                        )
                    )
            else:
                append(f"{pad}{prefix}[")
                push((_CLOSE, path, "", f"{pad}]{suffix}", ""))
                last = len(node) - 1
                for index in range(last, -1, -1):
                    push((node[index], f"{path}/{index}", inner, "", "," if index < last else ""))
        elif node is _CLOSE:
            append(prefix)
            spans[path] = (spans[path][0], len(lines))
        else:
            spans[path] = (len(lines), len(lines) + 1)
            append(f"{pad}{prefix}{_encode_scalar(node)}{suffix}")
    return lines, spans


def _encode_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return _scalar(value)  # empty containers, subclasses, anything unusual


# Laying out the changes -------------------------------------------------------------

# A block of lines: (changed?, highlight pairs?, left start, left end, right start, right end)
_Block = tuple[bool, bool, int, int, int, int]


class _Layout:
    """Walks the two trees along the core's changes and collects blocks of lines."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any], changes: Sequence[Any]):
        self.changes = changes
        self.left, self.left_spans = json_lines(old)
        self.right, self.right_spans = json_lines(new)
        self.blocks: list[_Block] = []
        self.anchors: dict[int, str] = {}  # change index -> anchor id
        self._pending: list[int] | None = None  # an open block of removed/added lines
        # Changes grouped under every container they touch: path -> [(token, index, exact)]
        self.children: dict[str, list[tuple[str, int, bool]]] = {}
        for index, change in enumerate(changes):
            path: str = change["path"]
            start = path.find("/")
            while start != -1:
                end = path.find("/", start + 1)
                token = path[start + 1 :] if end == -1 else path[start + 1 : end]
                self.children.setdefault(path[:start], []).append((token, index, end == -1))
                start = end
        self._walk(old, new, "", "")
        self._flush()

    # Emitting blocks

    def _emit(self, block: _Block) -> None:
        self._flush()
        self.blocks.append(block)

    def _flush(self) -> None:
        if self._pending is not None:
            ls, le, rs, re = self._pending
            self.blocks.append((True, False, ls, le, rs, re))
            self._pending = None

    def _one_sided(self, side: str, path: str, index: int | None) -> None:
        start, end = (self.left_spans if side == "L" else self.right_spans)[path]
        pending = self._pending
        at = 0 if side == "L" else 2
        if pending is not None and pending[at + 1] != start:
            self._flush()
            pending = None
        if pending is None:
            # Open a block at the current position of both sides.
            ls, rs = self._position()
            pending = self._pending = [ls, ls, rs, rs]
            if side == "L":
                pending[0] = pending[1] = start
            else:
                pending[2] = pending[3] = start
        pending[at + 1] = end
        if index is not None:
            self.anchors[index] = f"cv-{side}{start + 1}"

    def _position(self) -> tuple[int, int]:
        if not self.blocks:
            return 0, 0
        last = self.blocks[-1]
        return last[3], last[5]

    def _equal(self, old_path: str, new_path: str) -> None:
        ls, le = self.left_spans[old_path]
        rs, re = self.right_spans[new_path]
        self._emit((le - ls != re - rs, False, ls, le, rs, re))

    def _lines(self, left_line: int, right_line: int) -> None:
        self._emit((False, False, left_line, left_line + 1, right_line, right_line + 1))

    def _replaced(self, old_path: str, new_path: str, indices: Collection[int]) -> None:
        ls, le = self.left_spans[old_path]
        rs, re = self.right_spans[new_path]
        self._emit((True, True, ls, le, rs, re))
        for index in indices:
            self.anchors[index] = f"cv-R{rs + 1}"

    # Walking

    def _walk(self, old: Any, new: Any, old_path: str, new_path: str) -> None:
        entries = self.children.get(new_path)
        if not entries:
            self._equal(old_path, new_path)
        elif type(old) is dict and type(new) is dict and old and new:
            self._walk_dict(old, new, old_path, new_path, entries)
        elif type(old) is list and type(new) is list and old and new:
            self._walk_list(old, new, old_path, new_path, entries)
        else:
            # An empty container that gained members, or anything unforeseen: show the
            # two versions of the whole node side by side.
            self._replaced(old_path, new_path, [index for _, index, _ in entries])

    def _container(self, old_path: str, new_path: str) -> tuple[int, int]:
        ls, le = self.left_spans[old_path]
        rs, re = self.right_spans[new_path]
        self._lines(ls, rs)  # the opening bracket
        return le - 1, re - 1  # where the closing bracket sits

    def _walk_dict(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        old_path: str,
        new_path: str,
        entries: list[tuple[str, int, bool]],
    ) -> None:
        exact = {token: index for token, index, is_exact in entries if is_exact}
        nested = {token for token, _, is_exact in entries if not is_exact}
        close_left, close_right = self._container(old_path, new_path)
        for key in sorted(old.keys() | new.keys()):
            token = escape_pointer_token(key)
            child_old, child_new = f"{old_path}/{token}", f"{new_path}/{token}"
            if token in exact:
                index = exact[token]
                op = self.changes[index]["op"]
                if op == "remove":
                    self._one_sided("L", child_old, index)
                elif op == "add":
                    self._one_sided("R", child_new, index)
                else:
                    self._replaced(child_old, child_new, [index])
            elif token in nested:
                self._walk(old[key], new[key], child_old, child_new)
            else:
                self._equal(child_old, child_new)
        self._lines(close_left, close_right)

    def _walk_list(
        self,
        old: list[Any],
        new: list[Any],
        old_path: str,
        new_path: str,
        entries: list[tuple[str, int, bool]],
    ) -> None:
        # Replay the core's operations, in patch order, on the old elements' positions:
        # what is left says which old element each new one came from. An operation's
        # index is the position in the partly patched list, and elements the core
        # paired are never moved by its later operations on the same list.
        origin: list[int | tuple[str, int]] = list(range(len(old)))
        removed: dict[int, int] = {}
        replaced: dict[int, int] = {}
        nested: set[int] = set()
        try:
            for token, index, is_exact in entries:
                position = int(token)
                op = self.changes[index]["op"] if is_exact else "nested"
                if op == "remove":
                    removed[_origin(origin.pop(position))] = index
                elif op == "add":
                    origin.insert(position, ("new", index))
                elif op == "replace":
                    replaced[position] = index
                else:
                    nested.add(position)
            consistent = len(origin) == len(new) and all(
                isinstance(source, tuple)
                or position in replaced
                or position in nested
                or old[source] == new[position]
                for position, source in enumerate(origin)
            )
        except (ValueError, IndexError, TypeError):
            consistent = False
        if not consistent:  # a core this module does not understand: stay correct
            self._replaced(old_path, new_path, [index for _, index, _ in entries])
            return

        close_left, close_right = self._container(old_path, new_path)
        next_old = 0
        for position, source in enumerate(origin):
            if isinstance(source, tuple):
                self._one_sided("R", f"{new_path}/{position}", source[1])
                continue
            for gone in range(next_old, source):
                self._one_sided("L", f"{old_path}/{gone}", removed.get(gone))
            child_old, child_new = f"{old_path}/{source}", f"{new_path}/{position}"
            if position in replaced:
                self._replaced(child_old, child_new, [replaced[position]])
            elif position in nested:
                self._walk(old[source], new[position], child_old, child_new)
            else:
                self._equal(child_old, child_new)
            next_old = source + 1
        for gone in range(next_old, len(old)):
            self._one_sided("L", f"{old_path}/{gone}", removed.get(gone))
        self._lines(close_left, close_right)


def _origin(source: int | tuple[str, int]) -> int:
    if isinstance(source, tuple):
        raise ValueError("the core removed an element it had just added")
    return source


# Rows -------------------------------------------------------------------------------


def side_by_side(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    changes: Sequence[Mapping[str, Any]],
    *,
    context: int = 3,
    expand: Collection[int] | Literal["all"] = (),
    summary_limit: int | None = 200,
) -> SideBySide:
    """Rows for two configs and the ``changes`` the core found between them.

    Unchanged runs longer than ``2 * context`` lines are folded down to ``context``
    lines next to each change, except those whose first folded left line number is in
    ``expand`` (or all of them with ``"all"``). The summary lists the first
    ``summary_limit`` changes (all of them with None); ``change_count`` counts them all.
    """
    layout = _Layout(old, new, changes)
    left, right = layout.left, layout.right
    rows: list[Row | Fold] = []
    blocks = _merge_equal(layout.blocks)
    for position, (changed, paired, ls, le, rs, re) in enumerate(blocks):
        if changed:
            rows.extend(_change_rows(left, right, ls, le, rs, re, highlight=paired))
            continue
        count = le - ls
        keep_head = context if position > 0 else 0
        keep_tail = context if position < len(blocks) - 1 else 0
        hidden = count - keep_head - keep_tail
        # Only runs longer than twice the context fold, and never to hide a single line.
        if count <= 2 * context or hidden < 2 or expand == "all" or (ls + keep_head + 1) in expand:
            keep_head, hidden = count, 0
        rows.extend(_equal_rows(left, right, ls, rs, keep_head))
        if hidden:
            rows.append(Fold(ls + keep_head + 1, rs + keep_head + 1, hidden))
            start = keep_head + hidden
            rows.extend(_equal_rows(left, right, ls + start, rs + start, count - start))
    summary = [
        SummaryItem(
            op=change["op"],
            path=change["path"] or "/",
            before=_preview(change["from"]) if change["op"] != "add" else "",
            after=_preview(change["to"]) if change["op"] != "remove" else "",
            anchor=layout.anchors.get(index, ""),
        )
        for index, change in enumerate(changes[:summary_limit])
    ]
    return SideBySide(rows, summary, len(changes), len(left), len(right))


def _merge_equal(blocks: list[_Block]) -> list[_Block]:
    merged: list[_Block] = []
    for block in blocks:
        if block[2] == block[3] and block[4] == block[5]:
            continue
        if merged and not block[0] and not merged[-1][0]:
            last = merged[-1]
            merged[-1] = (False, False, last[2], block[3], last[4], block[5])
        else:
            merged.append(block)
    return merged


def _equal_rows(left: list[str], right: list[str], ls: int, rs: int, count: int) -> list[Row]:
    return [
        Row(Cell(ls + k + 1, "equal", left[ls + k]), Cell(rs + k + 1, "equal", right[rs + k]))
        for k in range(count)
    ]


def _change_rows(
    left: list[str], right: list[str], ls: int, le: int, rs: int, re: int, *, highlight: bool
) -> list[Row]:
    rows = []
    old_cell: Cell | None
    new_cell: Cell | None
    for k in range(max(le - ls, re - rs)):
        a = left[ls + k] if ls + k < le else None
        b = right[rs + k] if rs + k < re else None
        if highlight and a is not None and b is not None:
            old_cell, new_cell = _highlighted(ls + k + 1, a, rs + k + 1, b)
        else:
            old_cell = Cell(ls + k + 1, "removed", a) if a is not None else None
            new_cell = Cell(rs + k + 1, "added", b) if b is not None else None
        rows.append(Row(old_cell, new_cell))
    return rows


def _highlighted(left_number: int, a: str, right_number: int, b: str) -> tuple[Cell, Cell]:
    """Mark what differs between two paired lines, when they share more than indent."""
    prefix = _common_prefix(a, b)
    limit = min(len(a), len(b)) - prefix
    suffix = _common_prefix(a[::-1], b[::-1], limit)
    indent = len(a) - len(a.lstrip(" "))
    if prefix <= indent or a == b:
        return Cell(left_number, "removed", a), Cell(right_number, "added", b)
    return (
        Cell(left_number, "removed", a[:prefix], a[prefix : len(a) - suffix], a[len(a) - suffix :]),
        Cell(right_number, "added", b[:prefix], b[prefix : len(b) - suffix], b[len(b) - suffix :]),
    )


def _common_prefix(a: str, b: str, limit: int | None = None) -> int:
    # Binary search on slices: each comparison runs in C, so long lines (a prompt of
    # several kilobytes on one line) cost a few comparisons, not a Python loop.
    low, high = 0, min(len(a), len(b)) if limit is None else limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _preview(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
