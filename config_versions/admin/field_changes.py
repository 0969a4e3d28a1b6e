"""The "Other changes" of the history page: recorded edits of a config's own fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from config_versions.models import BotConfigChange

# Longest value shown in a row; the whole value is in the row's title.
SHOWN_CHARS = 120


@dataclass(frozen=True, slots=True)
class ChangeRow:
    created_at: datetime
    author: str
    field: str  # the field's label
    before: str
    after: str
    before_full: str
    after_full: str
    reason: str
    is_code: bool  # JSON (the schema), shown in a monospace font


@dataclass(frozen=True, slots=True)
class OtherChanges:
    rows: list[ChangeRow] = field(default_factory=list)
    more: bool = False  # older changes than the rows exist

    def __bool__(self) -> bool:
        return bool(self.rows)


def other_change_row(change: BotConfigChange) -> ChangeRow:
    user = change.created_by_user
    is_code = change.field == "schema"
    before, after = (_text(change.before, is_code), _text(change.after, is_code))
    return ChangeRow(
        created_at=change.created_at,
        author=change.created_by or (user.get_username() if user is not None else ""),
        field=str(change.get_field_display()),
        before=_short(before),
        after=_short(after),
        before_full=before,
        after_full=after,
        reason=change.reason,
        is_code=is_code,
    )


def _text(value: Any, is_code: bool) -> str:
    if value is None:
        return _("(none)")
    if not is_code and isinstance(value, str):
        return value if value else _("(empty)")
    # A schema: compact JSON, keys sorted, one line.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _short(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
