"""Proposal events in the database: the ``ProposalStore`` half of ``DatabaseStore``.

An event is one INSERT, made by the manager's review rules inside
``DatabaseStore.serialized()`` (the config's row lock), so a config's events are numbered
and chained one at a time; the unique (config, sequence) index refuses an event another
writer numbered first. The same transaction rewrites the proposal's summary row
(``BotConfigProposal``), which the admin and the API list proposals by. An event whose
COMMIT fails is looked for on a new connection, as versions and label moves are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction

from config_versions.conf import settings as cv_settings
from config_versions.core.errors import StoreConflict
from config_versions.core.jsondata import GENESIS, normalize_config
from config_versions.core.proposals import Proposal, ProposalEvent, event_chain_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.label_storage import row_landed
from config_versions.models import BotConfigProposal, BotConfigProposalEvent
from config_versions.statements import created_at

if TYPE_CHECKING:
    from config_versions.models import BotConfig

EVENT_COLUMNS = ("sequence", "proposal", "kind", "timestamp", "actor", "data", "chain_hash")


def event_from_row(row: tuple[Any, ...]) -> ProposalEvent:
    """A core ``ProposalEvent`` from the values of ``EVENT_COLUMNS``."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    values["data"] = json.loads(values["data"])
    return ProposalEvent(**values)


class DatabaseProposals:
    """Proposal reads and appends for one config; mixed into ``DatabaseStore``."""

    bot_config: BotConfig
    using: str
    read_db: str
    user_id: Any
    _serializing: bool
    _landed: Callable[[], bool] | None

    def _events(self) -> models.QuerySet[BotConfigProposalEvent]:
        # Inside serialized() the reads a step relies on go where it is written.
        alias = self.using if self._serializing else self.read_db
        return BotConfigProposalEvent.objects.using(alias).filter(bot_config_id=self.bot_config.pk)

    def proposal_events(self, proposal: int | None = None) -> list[ProposalEvent]:
        rows = self._events()
        if proposal is not None:
            rows = rows.filter(proposal=proposal)
        return [
            event_from_row(row) for row in rows.order_by("sequence").values_list(*EVENT_COLUMNS)
        ]

    def last_proposal(self) -> int:
        found = self._events().aggregate(last=models.Max("proposal"))["last"]
        return int(found or 0)

    def append_proposal_event(self, event: ProposalEvent, state: Proposal) -> ProposalEvent:
        last = (
            BotConfigProposalEvent.objects.using(self.using)
            .filter(bot_config_id=self.bot_config.pk)
            .order_by("-sequence")
            .values_list("sequence", "chain_hash")
            .first()
        )
        sequence, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
        numbered = ProposalEvent(**{**vars(event), "sequence": sequence, "chain_hash": ""})
        link = event_chain_hash(previous, numbered)
        key = cv_settings.SIGNING_KEY
        when = created_at(event.timestamp)
        # Kept as written (key order included: a config applied later keeps it); the
        # chain hash covers the canonical form.
        _, text = normalize_config(event.data, copy=False)
        try:
            with transaction.atomic(using=self.using):
                BotConfigProposalEvent.objects.using(self.using).create(
                    bot_config_id=self.bot_config.pk,
                    sequence=sequence,
                    proposal=event.proposal,
                    kind=event.kind,
                    timestamp=event.timestamp,
                    created_at=when,
                    actor=event.actor,
                    actor_user_id=self.user_id,
                    data=text,
                    chain_hash=link,
                    signature=sign_chain_hash(key, link) if key else None,
                )
        except IntegrityError:
            raise StoreConflict(sequence) from None  # another step took the number
        self._save_summary(state, when)
        # Should the COMMIT of serialized() fail, the step may have landed all the same.
        self._landed = partial(
            row_landed,
            self.using,
            BotConfigProposalEvent.objects.filter(
                bot_config_id=self.bot_config.pk, sequence=sequence, chain_hash=link
            ),
        )
        return ProposalEvent(**{**vars(numbered), "chain_hash": link})

    def _save_summary(self, state: Proposal, when: Any) -> None:
        values = {
            "status": state.status,
            "author": state.author,
            "label": state.label,
            "base_version": state.base_version,
            "revision": state.revision.number,
            "approvals": len(state.approvers),
            "reason": state.reason,
            "applied_version": state.applied_version,
            "updated_at": when,
        }
        BotConfigProposal.objects.using(self.using).update_or_create(
            bot_config_id=self.bot_config.pk,
            number=state.id,
            defaults=values,
            create_defaults={**values, "created_at": when},
        )
