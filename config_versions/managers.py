"""Composition: the version manager for a BotConfig, the one place edges get it from.

It binds the framework-free manager to the database store and gives it the site's
rules (the config's JSON Schema, the site's validators, the limits from settings) and
a listener that sends the signals once the write's transaction commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.dispatch import Signal

from config_versions import conf, signals
from config_versions.core.events import Event, LabelMoved, Listener, ProposalRecorded
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.proposals import APPLIED_EVENT, REVIEWED, WITHDRAWN_EVENT
from config_versions.models import (
    BotConfig,
    BotConfigLabelMove,
    BotConfigProposalEvent,
    BotConfigVersion,
)
from config_versions.storage import DatabaseStore
from config_versions.validation import validators_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def database_manager(
    bot_config: BotConfig, *, user: AbstractBaseUser | AnonymousUser | None = None
) -> ConfigVersionManager:
    """The manager of ``bot_config``'s history; versions it writes record ``user``."""
    store = DatabaseStore(bot_config, user=user)
    return ConfigVersionManager(
        store, listeners=[signal_sender(bot_config, store.using)], **manager_options(bot_config)
    )


def manager_options(bot_config: BotConfig) -> dict[str, Any]:
    """The rules a config's versions obey: its schema, the site's validators, the limits.

    ``ConfigVersionManager(**manager_options(bot)).validate(config)`` checks a config
    for a BotConfig that is not saved yet.
    """
    return {"validators": validators_for(bot_config), **_limits()}


def restore_history(bot_config: BotConfig, document: Mapping[str, Any]) -> ConfigVersionManager:
    """Write an exported history into ``bot_config`` (empty), keeping every field.

    The validators do not apply: recorded history is kept as it was, and so are its
    label moves, whether or not their labels are declared here today (the manager
    returned obeys today's ``LABELS``). The versions and moves go through the store like
    any write, so the chains are recomputed and signed with this site's key; signatures
    in ``document`` are ignored. When ``document`` names its heads (``chain_hash``, and
    ``label_chain_hash`` for the moves, as exports do), the chains written must end
    there, or ValueError: a history that would no longer verify is not kept. Call it
    inside a transaction for all or nothing.
    """
    store = DatabaseStore(bot_config)
    options = {**_limits(), "labels": None}
    manager = ConfigVersionManager.from_dict(
        document, store=store, listeners=[signal_sender(bot_config, store.using)], **options
    )
    manager.declared_labels = frozenset(conf.settings.LABELS)
    _check_head(
        "the history written does",
        document.get("chain_hash"),
        BotConfigVersion.objects.using(store.using)
        .filter(bot_config_id=bot_config.pk)
        .order_by("-version")
        .values_list("chain_hash", flat=True)
        .first(),
    )
    _check_head(
        "the label moves written do",
        document.get("label_chain_hash"),
        BotConfigLabelMove.objects.using(store.using)
        .filter(bot_config_id=bot_config.pk)
        .order_by("-sequence")
        .values_list("chain_hash", flat=True)
        .first(),
    )
    _check_head(
        "the proposal events written do",
        document.get("proposal_chain_hash"),
        BotConfigProposalEvent.objects.using(store.using)
        .filter(bot_config_id=bot_config.pk)
        .order_by("-sequence")
        .values_list("chain_hash", flat=True)
        .first(),
    )
    return manager


def _check_head(what: str, expected: object, written: str | None) -> None:
    if isinstance(expected, str) and expected and written != expected:
        raise ValueError(
            f"{what} not end at the file's chain hash {expected[:12]}... (it ends at "
            f"{(written or 'nothing')[:12]}): this database did not keep a recorded field "
            "exactly"
        )


PROPOSAL_SIGNALS = {
    REVIEWED: signals.proposal_reviewed,
    APPLIED_EVENT: signals.proposal_applied,
    WITHDRAWN_EVENT: signals.proposal_withdrawn,
}


def signal_sender(bot_config: BotConfig, using: str) -> Listener:
    """A listener sending ``version_created`` (and ``config_rolled_back``),
    ``label_moved`` or a ``proposal_*`` signal, on commit.

    With ``send_robust``: the version is committed by then, so a receiver that fails
    is logged (logger ``django.dispatch``) and the others still run, rather than turning
    the write's success into an error its caller would take for "nothing written".
    """

    def send(event: Event) -> None:
        sends: list[tuple[Signal, dict[str, Any]]]
        if isinstance(event, ProposalRecorded):
            signal = PROPOSAL_SIGNALS.get(event.event.kind, signals.proposal_submitted)
            sends = [(signal, {"proposal": event.proposal, "event": event.event})]
        elif isinstance(event, LabelMoved):
            move = event.move
            sends = [
                (
                    signals.label_moved,
                    {
                        "label": move.label,
                        "from_version": move.from_version,
                        "to_version": move.to_version,
                        "event": move,
                    },
                )
            ]
        else:
            sends = [(signals.version_created, {"version": event.version})]
            if event.rollback_to is not None:
                sends.append(
                    (
                        signals.config_rolled_back,
                        {"version": event.version, "to_version": event.rollback_to},
                    )
                )
        for signal, extra in sends:
            transaction.on_commit(
                partial(
                    signal.send_robust,
                    sender=BotConfig,
                    bot_config=bot_config,
                    **extra,
                ),
                using=using,
            )

    return send


def _limits() -> dict[str, Any]:
    return {
        "labels": conf.settings.LABELS.keys(),
        "review": conf.settings.REVIEW,
        "max_config_bytes": conf.settings.MAX_CONFIG_BYTES,
        "max_depth": conf.settings.MAX_DEPTH,
        "max_reason_length": conf.settings.MAX_REASON_LENGTH,
    }
