"""The admin for bot configs and their version history, registered on the default site.

A site that wants its own admin classes can unregister these and subclass
:class:`BotConfigAdmin` (or :class:`VersionHistoryAdmin` for the views alone).
"""

from __future__ import annotations

from django.contrib import admin

from config_versions.admin.bot_config import BotConfigAdmin
from config_versions.admin.proposal_changelist import BotConfigProposalAdmin
from config_versions.admin.versions import BotConfigVersionAdmin
from config_versions.admin.views import VersionHistoryAdmin
from config_versions.models import BotConfig, BotConfigProposal, BotConfigVersion

__all__ = [
    "BotConfigAdmin",
    "BotConfigProposalAdmin",
    "BotConfigVersionAdmin",
    "VersionHistoryAdmin",
]

admin.site.register(BotConfig, BotConfigAdmin)
admin.site.register(BotConfigVersion, BotConfigVersionAdmin)
admin.site.register(BotConfigProposal, BotConfigProposalAdmin)
