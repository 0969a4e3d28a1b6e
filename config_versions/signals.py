"""Signals, sent once the transaction that wrote the version has committed.

``version_created(sender=BotConfig, bot_config, version)`` for every new version, and
``config_rolled_back(sender=BotConfig, bot_config, version, to_version)`` for rollbacks.
``version`` is the core's :class:`~config_versions.core.version.ConfigVersion`.
``label_moved(sender=BotConfig, bot_config, label, from_version, to_version, event)``
after each label move; ``event`` is the core's
:class:`~config_versions.core.labels.LabelMove`.
``proposal_submitted``, ``proposal_reviewed``, ``proposal_applied`` and
``proposal_withdrawn`` ``(sender=BotConfig, bot_config, proposal, event)`` after each step
of a proposal (a new revision is ``proposal_submitted`` again); ``proposal`` is the core's
:class:`~config_versions.core.proposals.Proposal` as it stands after the step, ``event``
the recorded :class:`~config_versions.core.proposals.ProposalEvent`.
"""

from __future__ import annotations

from django.dispatch import Signal

version_created = Signal()
config_rolled_back = Signal()
label_moved = Signal()
proposal_submitted = Signal()
proposal_reviewed = Signal()
proposal_applied = Signal()
proposal_withdrawn = Signal()
