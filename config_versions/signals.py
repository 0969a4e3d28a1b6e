"""Signals, sent once the transaction that wrote the version has committed.

``version_created(sender=BotConfig, bot_config, version)`` for every new version, and
``config_rolled_back(sender=BotConfig, bot_config, version, to_version)`` for rollbacks.
``version`` is the core's :class:`~config_versions.core.version.ConfigVersion`.
``label_moved(sender=BotConfig, bot_config, label, from_version, to_version, event)``
after each label move; ``event`` is the core's
:class:`~config_versions.core.labels.LabelMove`.
"""

from __future__ import annotations

from django.dispatch import Signal

version_created = Signal()
config_rolled_back = Signal()
label_moved = Signal()
