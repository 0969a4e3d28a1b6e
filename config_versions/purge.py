"""Permanent removal of a config's history: the one deletion the database permits.

Configs are archived, not deleted (``BotConfig.archive``). When a history must really
go (a legal request, a test site), :func:`purge_history` removes the config, its
versions, label moves and recorded field changes in one transaction, and leaves a
:class:`~config_versions.models.PurgedConfig` tombstone: slug, number of versions, the
last chain hash, who, when and why. The database's DELETE trigger on version rows lets
a deletion through only for a config that has a tombstone, so a history cannot vanish
without one, and ``verify_config_history`` lists every tombstone.
"""

from __future__ import annotations

from django.db import connections, router, transaction

from config_versions.conf import settings
from config_versions.core.fields import check_text
from config_versions.models import (
    BotConfig,
    BotConfigChange,
    BotConfigLabelMove,
    BotConfigProposal,
    BotConfigProposalEvent,
    BotConfigVersion,
    PurgedConfig,
)


def purge_history(
    bot_config: BotConfig, *, by: str | None = None, reason: str = ""
) -> PurgedConfig:
    """Remove ``bot_config`` and its whole history for good; return the tombstone.

    ``by`` and ``reason`` are checked like a version's author and reason (an
    ``InvalidConfigError`` before anything is written); ``BotConfig.DoesNotExist`` if the
    config is gone already.
    """
    check_text("purged_by", "" if by is None else by, max_length=255)
    check_text("reason", reason, max_length=settings.MAX_REASON_LENGTH)
    using = router.db_for_write(BotConfigVersion, instance=bot_config)
    with transaction.atomic(using=using):
        # Lock the config first: a writer appending meanwhile would leave a version the
        # tombstone does not count.
        locked = BotConfig.objects.using(using).select_for_update().filter(pk=bot_config.pk).first()
        if locked is None:
            raise BotConfig.DoesNotExist(f"No bot config with id {bot_config.pk}.")
        head = (
            BotConfigVersion.objects.using(using)
            .filter(bot_config_id=locked.pk)
            .order_by("-version")
            .values_list("version", "chain_hash")
            .first()
        )
        tombstone = PurgedConfig.objects.using(using).create(
            config_id=locked.pk,
            slug=locked.slug,
            name=locked.name,
            versions=head[0] if head else 0,
            last_chain_hash=head[1] if head else "",
            purged_by=by,
            reason=reason,
        )
        qn = connections[using].ops.quote_name
        with connections[using].cursor() as cursor:
            for model in (
                BotConfigProposal,
                BotConfigProposalEvent,
                BotConfigLabelMove,
                BotConfigVersion,
                BotConfigChange,
            ):
                cursor.execute(
                    f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn('bot_config_id')} = %s",
                    [locked.pk],
                )
            cursor.execute(
                f"DELETE FROM {qn(BotConfig._meta.db_table)} WHERE {qn('id')} = %s", [locked.pk]
            )
    return tombstone
