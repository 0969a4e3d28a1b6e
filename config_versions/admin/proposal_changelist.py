"""Every config's proposals in one list: ``BotConfigProposal``, registered read-only.

The rows are the proposals' summaries (kept by the store with each step), listed by
``review.site_proposals``: those awaiting a decision first, archived configs left out,
the config read in the same query. Each row links to the proposal's review page on its
config; nothing is added, changed or deleted here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config_versions import review
from config_versions.models import BotConfigProposal
from config_versions.releases import is_protected

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[BotConfigProposal]
else:
    _ModelAdmin = admin.ModelAdmin

STATUS_TEMPLATE = "config_versions/admin/includes/proposal_status.html"
BADGE_TEMPLATE = "config_versions/admin/includes/label_badge.html"
# Seeing proposals is seeing configs: the permissions that show bot configs.
VIEW_PERMISSIONS = ("config_versions.view_botconfig", "config_versions.change_botconfig")


class BotConfigProposalAdmin(_ModelAdmin):
    list_display = [
        "proposal",
        "config",
        "status_badge",
        "summary",
        "author",
        "label_badge",
        "base_version",
        "revision",
        "approvals",
        "updated_at",
    ]
    list_display_links = None
    list_filter = ["status"]
    search_fields = ["bot_config__name", "bot_config__slug", "author", "reason"]
    list_per_page = 50

    class Media:
        css = {"all": ["config_versions/admin.css"]}

    # Read-only, for whoever may see configs ----------------------------------------------

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return any(request.user.has_perm(perm) for perm in VIEW_PERMISSIONS)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[BotConfigProposal]:
        return review.site_proposals()

    def get_ordering(self, request: HttpRequest) -> Any:
        # Django's changelist orders by this (or a column picked), not by the queryset's.
        return list(review.site_proposals().query.order_by)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A proposal is read on its review page, on its config."""
        row = self.get_object(request, object_id)
        if row is None or not self.has_view_permission(request, row):
            return super().change_view(request, object_id, form_url, extra_context)
        return HttpResponseRedirect(self.review_url(row))

    def review_url(self, row: BotConfigProposal) -> str:
        site = self.admin_site.name
        return reverse(
            f"{site}:config_versions_botconfig_proposal",
            args=[quote(row.bot_config_id), row.number],
            current_app=site,
        )

    # Columns ----------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("proposal"), ordering="number")
    def proposal(self, row: BotConfigProposal) -> str:
        return format_html(
            '<a href="{}" class="cv-proposal-link">{}</a>',
            self.review_url(row),
            _("Proposal %(n)s") % {"n": row.number},
        )

    @admin.display(description=gettext_lazy("config"), ordering="bot_config__name")
    def config(self, row: BotConfigProposal) -> str:
        return str(row.bot_config)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, row: BotConfigProposal) -> str:
        return render_to_string(STATUS_TEMPLATE, {"status": row.status})

    @admin.display(description=gettext_lazy("reason"))
    def summary(self, row: BotConfigProposal) -> str:
        text = row.reason or "—"
        return text if len(text) <= 120 else text[:119] + "…"

    @admin.display(description=gettext_lazy("label"), ordering="label")
    def label_badge(self, row: BotConfigProposal) -> str:
        if not row.label:
            return "—"
        return render_to_string(
            BADGE_TEMPLATE, {"name": row.label, "protected": is_protected(row.label), "url": ""}
        )
