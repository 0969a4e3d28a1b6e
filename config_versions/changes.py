"""Changes of a config's own fields (name, slug, description, JSON Schema), recorded.

These fields make no version, but they matter as much: a slug is how API clients find
a config, a schema decides which versions can be written. The rule, for the admin and
any other edge: such a change is saved together with one :class:`BotConfigChange` per
field (before, after, author, reason), in one transaction, and needs a reason. The
same reason rule applies to a save that writes a new version (:func:`check_reason`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import router, transaction
from django.utils import timezone

from config_versions.conf import settings
from config_versions.core.errors import ConfigArchivedError, InvalidConfigError
from config_versions.core.fields import check_text
from config_versions.core.jsondata import canonical_json
from config_versions.core.manager import MAX_CREATED_BY_LENGTH
from config_versions.models import BotConfig, BotConfigChange

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

TRACKED_FIELDS = BotConfigChange.FIELDS


class ReasonRequiredError(InvalidConfigError):
    """Something is about to be recorded (a version, a field change) without a reason."""

    def __init__(self) -> None:
        super().__init__("A reason is required when a change is recorded.", field="reason")


def check_reason(reason: object, *, recording: bool) -> str:
    """The reason to record, checked: text within ``MAX_REASON_LENGTH``, no NUL, no lone
    surrogate, and not blank when ``recording`` something. Raises InvalidConfigError
    (``field="reason"``; :class:`ReasonRequiredError` for a missing one)."""
    text = check_text("reason", reason, max_length=settings.MAX_REASON_LENGTH)
    if recording and not text.strip():
        raise ReasonRequiredError()
    return text


def record_changes(
    bot_config: BotConfig,
    fields: Iterable[str],
    *,
    reason: str,
    created_by: str | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> list[BotConfigChange]:
    """Save ``fields`` of ``bot_config`` as the instance holds them, recording each change.

    ``before`` is what the database holds (the row is locked until the transaction
    ends), so a field someone else changed meanwhile is recorded from their value. A
    field whose value does not change is neither saved nor recorded; nothing is written
    if none changes. Raises ``InvalidConfigError`` (reason, author) or Django's
    ``ValidationError`` (description, schema, from ``BotConfig.clean``) before writing.
    Run inside the caller's transaction, the rows commit with the caller's other writes.
    """
    names = list(dict.fromkeys(fields))
    if unknown := [name for name in names if name not in TRACKED_FIELDS]:
        raise ValueError(f"Not a recorded field of a config: {', '.join(unknown)}")
    if not names:
        return []
    using = router.db_for_write(BotConfig, instance=bot_config)
    with transaction.atomic(using=using):
        stored = (
            BotConfig.objects.using(using)
            .select_for_update()
            .filter(pk=bot_config.pk)
            .values(*names, "archived_at")
            .get()
        )
        # The store's rule for versions, for the config's own fields: an archived
        # config is read-only (checked under the row lock archive() waits for).
        if stored.pop("archived_at") is not None:
            raise ConfigArchivedError()
        changed = [
            name
            for name in names
            if canonical_json(stored[name]) != canonical_json(getattr(bot_config, name))
        ]
        if not changed:
            return []
        text = check_reason(reason, recording=True)
        if created_by is not None:
            check_text("created_by", created_by, max_length=MAX_CREATED_BY_LENGTH)
        bot_config.clean()
        bot_config.save(using=using, update_fields=[*changed, "updated_at"])
        now = timezone.now()
        user_id = user.pk if user is not None and user.is_authenticated else None
        rows = [
            BotConfigChange(
                bot_config=bot_config,
                field=name,
                before=stored[name],
                after=getattr(bot_config, name),
                reason=text,
                created_by=created_by,
                created_by_user_id=user_id,
                created_at=now,
            )
            for name in changed
        ]
        BotConfigChange.objects.using(using).bulk_create(rows)
    return rows
