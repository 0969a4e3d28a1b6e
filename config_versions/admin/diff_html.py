"""The rows of the side-by-side table as HTML, every value escaped here.

Rendered in Python rather than in a template loop: Django's template engine costs
about 0.2 ms a row, and an unfolded diff of two 1 MB configs has 40,000 rows (12 s,
measured by bench/admin_render_bench.py). Each piece of text from a config goes
through ``html.escape``; nothing else from a config reaches the page.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from config_versions.diff_display import Cell, Fold, SideBySide, SummaryItem

# The summary lists this many changes openly; the rest, if more than a few, sit behind
# a "Show N more changes" toggle (a <details>, so it works without JavaScript).
SUMMARY_OPEN = 10
SUMMARY_OPEN_MAX = 15

_NO_CELL = '<td class="cv-num cv-empty"></td><td class="cv-code cv-empty"></td>'


def _cell(side: str, cell: Cell | None, ids: str = "cv-") -> str:
    if cell is None:
        return _NO_CELL
    text = escape(cell.before)
    if cell.changed:
        text = f"{text}<mark>{escape(cell.changed)}</mark>"
    if cell.after:
        text += escape(cell.after)
    return (
        f'<td class="cv-num cv-{cell.kind}" id="{ids}{side}{cell.number}">{cell.number}</td>'
        f'<td class="cv-code cv-{cell.kind}">{text}</td>'
    )


def _fold(fold: Fold, expand_query: str, ids: str = "cv-", expand: str = "expand") -> str:
    label = ngettext("Show %(n)s unchanged line", "Show %(n)s unchanged lines", fold.count) % {
        "n": fold.count
    }
    href = escape(f"?{expand_query}&{expand}={fold.left_start}#{ids}L{fold.left_start}")
    return f'<tr class="cv-fold"><td colspan="4"><a href="{href}">{escape(label)}</a></td></tr>'


def render_rows(
    display: SideBySide, expand_query: str, *, ids: str = "cv-", expand: str = "expand"
) -> SafeString:
    """``<tr>`` elements for ``display``; fold links keep ``expand_query`` (from, to ...).

    A page with several tables gives each its own ``ids`` (the prefix of the line
    cells' ids, ``cv-L12``) and ``expand`` (the query parameter its folds unfold by).
    """
    parts = []
    for row in display.rows:
        if isinstance(row, Fold):
            parts.append(_fold(row, expand_query, ids, expand))
        else:
            css = ' class="cv-changed"' if row.is_change else ""
            parts.append(f"<tr{css}>{_cell('L', row.left, ids)}{_cell('R', row.right, ids)}</tr>")
    # Every value was escaped above.
    return mark_safe("\n".join(parts))


def _summary_item(item: SummaryItem) -> str:
    label = {"add": gettext("added"), "remove": gettext("removed")}.get(item.op, gettext("changed"))
    path = f"<code>{escape(item.path)}</code>"
    if item.anchor:
        path = f'<a href="#{escape(item.anchor)}">{path}</a>'
    parts = [f'<span class="cv-op">{escape(label)}</span>', path]
    values = []
    if item.op != "add":
        values.append(f'<span class="cv-before">{escape(item.before)}</span>')
    if item.op != "remove":
        values.append(f'<span class="cv-after">{escape(item.after)}</span>')
    parts.append(" &rarr; ".join(values))
    return f'<li class="cv-op-{escape(item.op)}">{" ".join(parts)}</li>'


def render_summary(items: list[SummaryItem]) -> SafeString:
    """The list of changed paths: every item given is on the page, none clipped.

    Past ``SUMMARY_OPEN_MAX`` items, the first ``SUMMARY_OPEN`` are listed and the
    others wait behind a toggle that says how many they are.
    """
    shown = len(items) if len(items) <= SUMMARY_OPEN_MAX else SUMMARY_OPEN
    html = ['<ul class="cv-summary-list">', *map(_summary_item, items[:shown]), "</ul>"]
    rest = items[shown:]
    if rest:
        label = ngettext("Show %(n)s more change", "Show %(n)s more changes", len(rest)) % {
            "n": len(rest)
        }
        html += [
            '<details class="cv-summary-more">',
            f"<summary>{escape(label)}</summary>",
            '<ul class="cv-summary-list">',
            *map(_summary_item, rest),
            "</ul></details>",
        ]
    # Every value was escaped above.
    return mark_safe("\n".join(html))
