"""The rows of the side-by-side table as HTML, every value escaped here.

Rendered in Python rather than in a template loop: Django's template engine costs
about 0.2 ms a row, and an unfolded diff of two 1 MB configs has 40,000 rows (12 s,
measured by bench/admin_render_bench.py). Each piece of text from a config goes
through ``html.escape``; nothing else from a config reaches the page.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

from config_versions.diff_display import Cell, Fold, SideBySide

_NO_CELL = '<td class="cv-num cv-empty"></td><td class="cv-code cv-empty"></td>'


def _cell(side: str, cell: Cell | None) -> str:
    if cell is None:
        return _NO_CELL
    text = escape(cell.before)
    if cell.changed:
        text = f"{text}<mark>{escape(cell.changed)}</mark>"
    if cell.after:
        text += escape(cell.after)
    return (
        f'<td class="cv-num cv-{cell.kind}" id="cv-{side}{cell.number}">{cell.number}</td>'
        f'<td class="cv-code cv-{cell.kind}">{text}</td>'
    )


def _fold(fold: Fold, expand_query: str) -> str:
    label = ngettext("Show %(n)s unchanged line", "Show %(n)s unchanged lines", fold.count) % {
        "n": fold.count
    }
    href = escape(f"?{expand_query}&expand={fold.left_start}#cv-L{fold.left_start}")
    return f'<tr class="cv-fold"><td colspan="4"><a href="{href}">{escape(label)}</a></td></tr>'


def render_rows(display: SideBySide, expand_query: str) -> SafeString:
    """``<tr>`` elements for ``display``; fold links keep ``expand_query`` (from, to ...)."""
    parts = []
    for row in display.rows:
        if isinstance(row, Fold):
            parts.append(_fold(row, expand_query))
        else:
            css = ' class="cv-changed"' if row.is_change else ""
            parts.append(f"<tr{css}>{_cell('L', row.left)}{_cell('R', row.right)}</tr>")
    # Every value was escaped above.
    return mark_safe("\n".join(parts))
