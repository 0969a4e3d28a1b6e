"""BotConfigVersion in the admin: history is read, never written, from here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config_versions import conf
from config_versions.forms import pretty_json
from config_versions.models import BotConfig, BotConfigVersion

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[BotConfigVersion]
else:
    _ModelAdmin = admin.ModelAdmin


class BotConfigVersionAdmin(_ModelAdmin):
    list_display = ["bot_config", "version", "created_at", "created_by", "short_reason", "marker"]
    list_display_links = ["version"]
    list_select_related = ["bot_config"]
    list_filter = ["bot_config", "created_at"]
    search_fields = ["bot_config__name", "bot_config__slug", "reason", "created_by"]
    date_hierarchy = "created_at"
    fields = (
        "bot_config_link",
        "version",
        "created_at",
        "created_by",
        "created_by_user",
        "reason",
        "previous_version",
        "metadata_display",
        "config_display",
        "content_hash",
        "chain_hash",
    )
    readonly_fields = fields

    class Media:
        css = {"all": ["config_versions/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[BotConfigVersion]:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and (match.url_name or "").endswith("_changelist"):
            # The list never shows configs, which may weigh megabytes each.
            queryset = queryset.defer("config")
        return queryset

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The "History" button of a version: the version in its config's history.

        A version is never edited, so Django's own history page of it, the admin log's
        entries, would always be empty. The config's history lists every version: this
        opens the page that holds this one, picked for comparison with the one before.
        """
        version = self.get_object(request, unquote(object_id))
        if version is None or not self.has_view_or_change_permission(request, version):
            return super().history_view(request, object_id, extra_context)
        site = self.admin_site.name
        config = version.bot_config
        history = reverse(
            f"{site}:config_versions_botconfig_history", args=[quote(config.pk)], current_app=site
        )
        page = (config.current_version - version.version) // conf.settings.ADMIN_HISTORY_PAGE_SIZE
        query = f"?from={max(version.version - 1, 1)}&to={version.version}&p={page + 1}"
        return HttpResponseRedirect(f"{history}{query}#cv-v{version.version}")

    # Versions are history: nobody adds, edits or deletes them here, superusers included.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may see a config may see its versions.
        opts = BotConfig._meta
        return super().has_view_permission(request, obj) or any(
            request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
            for action in ("view", "change")
        )

    @admin.display(description=gettext_lazy("reason"))
    def short_reason(self, obj: BotConfigVersion) -> str:
        return Truncator(obj.reason).chars(80)

    @admin.display(description="")
    def marker(self, obj: BotConfigVersion) -> str:
        if obj.rollback_to is not None:
            return _("rolled back to v%(n)s") % {"n": obj.rollback_to}
        return ""

    @admin.display(description=gettext_lazy("bot config"))
    def bot_config_link(self, obj: BotConfigVersion) -> str:
        site = self.admin_site.name
        config = obj.bot_config
        history = reverse(
            f"{site}:config_versions_botconfig_history", args=[quote(config.pk)], current_app=site
        )
        if obj.version == 1:
            return format_html('<a href="{}">{}</a>', history, config)
        diff = reverse(
            f"{site}:config_versions_botconfig_diff", args=[quote(config.pk)], current_app=site
        )
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?from={}&amp;to={}">{}</a>',
            history,
            config,
            diff,
            obj.version - 1,
            obj.version,
            _("changes from version %(n)s") % {"n": obj.version - 1},
        )

    @admin.display(description=gettext_lazy("metadata"))
    def metadata_display(self, obj: BotConfigVersion) -> str:
        return format_html('<pre class="cv-json-view">{}</pre>', pretty_json(obj.metadata))

    @admin.display(description=gettext_lazy("config"))
    def config_display(self, obj: BotConfigVersion) -> str:
        return format_html('<pre class="cv-json-view">{}</pre>', pretty_json(obj.config))
