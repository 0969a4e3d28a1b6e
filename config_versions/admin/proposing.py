"""Proposing from the change form: "Propose change" where others see "Save".

Someone whose edits become proposals (``review.may_only_propose``: they may propose but
not write directly) and who may see configs opens the config editor as an editor does;
what they post is submitted for review (``review.submit``, by ``ProposeForm``) instead
of saved, and they land on the proposal's review page. The config's own fields (name,
slug, description, schema) stay read-only for them: they are no part of a proposal.

Direct writes follow ``review.write_refusal`` (``REVIEW["all_writes"]``): without
``bypass_review_botconfig`` no config is added and no version rolled back here, and the
change form proposes; nothing is written silently.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from config_versions import review
from config_versions.admin.views import VersionHistoryAdmin
from config_versions.core.proposals import Proposal
from config_versions.models import BotConfig
from config_versions.proposal_forms import ProposeForm
from config_versions.releases import declared_labels

# Request attributes: this change form proposes; the proposal it submitted.
_PROPOSING = "_config_versions_proposing"
_SUBMITTED = "_config_versions_submitted"
# The config's own fields, read-only in a proposer's editor.
OWN_FIELDS = ("name", "slug", "description", "schema")


class ProposingAdmin(VersionHistoryAdmin):
    """The proposing parts of ``BotConfigAdmin``'s change form (see the module)."""

    propose_form: type[ProposeForm] = ProposeForm

    def is_proposing(self, request: HttpRequest) -> bool:
        """Whether this request's change form submits proposals instead of saving."""
        return bool(request.__dict__.get(_PROPOSING))

    def may_propose_here(self, request: HttpRequest) -> bool:
        """Whether the user's edits become proposals, and they may see configs."""
        return review.may_only_propose(request.user) and self.has_view_permission(request)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if object_id is not None and self.may_propose_here(request):
            request.__dict__[_PROPOSING] = True
        return super().changeform_view(request, object_id, form_url, extra_context)

    # Permissions ------------------------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: BotConfig | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if allowed or obj is None or not self.is_proposing(request):
            return allowed
        # The proposer's editor: its form (ProposeForm) submits a proposal, never saves.
        return not obj.is_archived

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and review.write_refusal(request.user) is None

    def has_rollback_permission(self, request: HttpRequest, obj: BotConfig | None = None) -> bool:
        return (
            super().has_rollback_permission(request, obj)
            and review.write_refusal(request.user) is None
        )

    # The proposer's editor -------------------------------------------------------------

    def proposing_fieldsets(self, obj: BotConfig) -> list[tuple[Any, dict[str, Any]]]:
        fields = ["config", "reason"]
        if declared_labels():
            fields.append("target_label")
        return [
            (None, {"fields": ["name", "slug", "description", "current_version"]}),
            (
                _("Configuration"),
                {
                    "fields": [*fields, "expected_version"],
                    # Rendered with the page: the form names the version it holds.
                    "description": lazy(partial(self._proposing_note, obj), SafeString)(),
                },
            ),
            (_("Validation"), {"fields": ["schema"], "classes": ["collapse"]}),
        ]

    def proposing_readonly_fields(self) -> tuple[str, ...]:
        return (*OWN_FIELDS, "current_version")

    def _proposing_note(self, obj: BotConfig) -> str:
        return format_html(
            '<span class="cv-editing cv-proposing-note">{} {} {}</span>',
            _("You are editing version %(n)s.") % {"n": obj.current_version},
            _(
                "Your change is proposed for review: it becomes a version once it is "
                "approved and applied."
            ),
            format_html(
                '<a href="{}">{}</a>', self._url("proposals", obj), _("Proposals of this config")
            ),
        )

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: BotConfig | None = None
    ) -> dict[str, Any]:
        if self.is_proposing(request):
            return {}  # the slug is read-only here
        return dict(super().get_prepopulated_fields(request, obj))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: BotConfig | None = None,
    ) -> HttpResponse:
        context["cv_proposing"] = (
            self.is_proposing(request) and obj is not None and not obj.is_archived
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # After the form submitted a proposal -----------------------------------------------

    def proposal_submitted(self, request: HttpRequest, proposal: Proposal) -> None:
        """Called by ``save_model`` instead of saving: the form proposed ``proposal``."""
        request.__dict__[_SUBMITTED] = proposal

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        submitted = request.__dict__.get(_SUBMITTED)
        if submitted is not None:
            message = f"Proposed a change: proposal {submitted.id}."
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: BotConfig) -> HttpResponse:
        submitted: Proposal | None = request.__dict__.pop(_SUBMITTED, None)
        if submitted is None:
            return super().response_change(request, obj)
        note = _(
            "Proposed your change as proposal %(n)s, made from version %(v)s. It becomes a "
            "version once it is approved and applied."
        ) % {"n": submitted.id, "v": submitted.base_version}
        if submitted.label is not None:
            note += " " + _("Applying it moves %(label)s there.") % {"label": submitted.label}
        self.message_user(request, note)
        return HttpResponseRedirect(self._url("proposal", obj, submitted.id))
