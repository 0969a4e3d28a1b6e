"""Archiving in the admin: a bot config is retired, never deleted.

The delete URL shows an archive confirmation (optional reason) and its POST calls
``BotConfig.archive()``; "Archive selected bot configs" replaces "Delete selected"; both
need the delete permission. An archived config leaves the changelist (the "Status"
filter shows it), and its change page is read-only with a "Restore" button (change
permission). Archives and restores are logged like any admin change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config_versions.admin.views import BREADCRUMBS_AS_LIST, VersionHistoryAdmin
from config_versions.core.errors import ConfigArchivedError, InvalidConfigError
from config_versions.forms import reason_error, reason_field
from config_versions.models import BotConfig

if TYPE_CHECKING:
    from django.contrib.admin.views.main import ChangeList

CONFIRMATION_TEMPLATE = "config_versions/admin/archive_confirmation.html"
SELECTED_TEMPLATE = "config_versions/admin/archive_selected_confirmation.html"
ARCHIVED_CHANGE_FORM_TEMPLATE = "config_versions/admin/archived_change_form.html"

ACTIVE, ARCHIVED, ALL = "active", "archived", "all"


class StatusFilter(admin.SimpleListFilter):
    """Status: Active (the default) / Archived / All. Archived configs are out of sight
    until asked for."""

    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (ACTIVE, gettext_lazy("Active")),
            (ARCHIVED, gettext_lazy("Archived")),
            (ALL, gettext_lazy("All")),
        ]

    def value(self) -> str:
        value = super().value()
        return value if value in (ARCHIVED, ALL) else ACTIVE

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        status = self.value()
        if status == ALL:
            return queryset
        return queryset.filter(archived_at__isnull=status == ACTIVE)

    def choices(self, changelist: ChangeList) -> Any:
        # No "All" of Django's that means "no filter": here no filter means Active.
        current = self.value()
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else {}
        for i, (lookup, title) in enumerate(self.lookup_choices):
            count = counts.get(f"{i}__c")
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup} if lookup != ACTIVE else {},
                    [self.parameter_name],
                ),
                "display": title if count is None else f"{title} ({count})",
            }


def status_of(request: HttpRequest) -> str:
    """The changelist's status filter, as the request asks for it."""
    value = request.GET.get(StatusFilter.parameter_name)
    return value if value in (ARCHIVED, ALL) else ACTIVE


class ArchiveForm(forms.Form):
    reason = forms.CharField(required=False)  # replaced: see reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = reason_field(
            required=False,
            help_text=_("Optional: why. Shown on its page while archived; kept in the admin log."),
        )


def _username(request: HttpRequest) -> str | None:
    user = request.user
    return user.get_username() if user.is_authenticated else None


def _archive_message(reason: str) -> str:
    # The admin log's entry (stored untranslated, like Django's own).
    return f"Archived: {reason}" if reason else "Archived."


class ArchivingAdmin(VersionHistoryAdmin):
    """The archive, restore and status-filter parts of ``BotConfigAdmin``."""

    archive_confirmation_template = CONFIRMATION_TEMPLATE
    archive_selected_template = SELECTED_TEMPLATE
    archived_change_form_template = ARCHIVED_CHANGE_FORM_TEMPLATE

    # Permissions ----------------------------------------------------------------------

    def has_restore_permission(self, request: HttpRequest, obj: BotConfig | None = None) -> bool:
        # Not has_change_permission(request, obj): that is False for an archived config.
        return self.has_change_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: BotConfig | None = None) -> bool:
        # An archived config is read-only: restore it to edit it.
        if obj is not None and obj.is_archived:
            return False
        return super().has_change_permission(request, obj)

    def has_rollback_permission(self, request: HttpRequest, obj: BotConfig | None = None) -> bool:
        if obj is not None and obj.is_archived:
            return False
        return super().has_rollback_permission(request, obj)

    # URLs -----------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_restore"
        view = self.admin_site.admin_view(self.restore_view)
        return [path("<path:object_id>/restore/", view, name=name), *super().get_urls()]

    def _changelist_url(self, request: HttpRequest) -> str:
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist",
            current_app=self.admin_site.name,
        )
        return add_preserved_filters(
            {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}, url
        )

    # Archiving one config: the delete URL ------------------------------------------------

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """GET: what archiving does, and a reason; POST: ``archive()``. Never a deletion."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._missing(request, object_id)
        if not self.has_delete_permission(request, obj):  # the permission to archive
            raise PermissionDenied
        if obj.is_archived:
            self.message_user(
                request, _("“%(obj)s” is archived already.") % {"obj": obj}, messages.INFO
            )
            return HttpResponseRedirect(self._url("change", obj))
        form = ArchiveForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                obj.archive(by=_username(request), reason=form.cleaned_data["reason"])
            except InvalidConfigError as exc:
                form.add_error("reason", reason_error(exc))
            except BotConfig.DoesNotExist:
                return self._missing(request, object_id)
            else:
                self.log_change(request, obj, _archive_message(obj.archive_reason))
                self.message_user(
                    request,
                    format_html(
                        _(
                            "“{obj}” was archived: it left this list and the API, and its "
                            "history is kept. The “Archived” filter shows it; it can be "
                            "restored from its page."
                        ),
                        obj=format_html('<a href="{}">{}</a>', self._url("change", obj), obj),
                    ),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._changelist_url(request))
        context = self._context(
            request,
            obj,
            _("Archive %(obj)s?") % {"obj": obj},
            form=form,
            versions=obj.current_version,
            **(extra_context or {}),
        )
        return TemplateResponse(request, self.archive_confirmation_template, context)

    # Restoring -----------------------------------------------------------------------

    def restore_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST only (the banner's button): bring an archived config back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._missing(request, object_id)
        if not (self.has_restore_permission(request, obj) and self.has_view_permission(request)):
            raise PermissionDenied
        try:
            restored = obj.restore()
        except BotConfig.DoesNotExist:
            return self._missing(request, object_id)
        if restored:
            self.log_change(request, obj, "Restored.")
            note = _("“%(obj)s” was restored: it is back in the list and the API.")
        else:
            note = _("“%(obj)s” is not archived.")
        self.message_user(
            request, note % {"obj": obj}, messages.SUCCESS if restored else messages.INFO
        )
        return HttpResponseRedirect(self._url("change", obj))

    # The change form of an archived config -------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and obj.is_archived and self.has_view_permission(request, obj):
                return self._archived_meanwhile(request, obj)
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        except ConfigArchivedError:
            # Archived between the check above and the write; the write was rolled back.
            obj = self.get_object(request, unquote(object_id))
            if obj is None:
                return self._missing(request, object_id)
            return self._archived_meanwhile(request, obj)

    def _archived_meanwhile(self, request: HttpRequest, obj: BotConfig) -> HttpResponse:
        self.message_user(
            request,
            _("“%(obj)s” is archived, so nothing was saved. Restore it to edit it.") % {"obj": obj},
            messages.WARNING,
        )
        return HttpResponseRedirect(self._url("change", obj))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: BotConfig | None = None,
    ) -> HttpResponse:
        if obj is None or not obj.is_archived:
            return super().render_change_form(request, context, add, change, form_url, obj)
        context["show_delete"] = False
        response = super().render_change_form(request, context, add, change, form_url, obj)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            base = response.template_name
            if not isinstance(base, str):  # names to pick from, or a template already
                base = select_template(base) if isinstance(base, list | tuple) else base
            response.context_data.update(
                cv_base_template=base,
                archived=obj,
                restore_url=self._url("restore", obj),
                has_restore_permission=self.has_restore_permission(request, obj),
            )
            response.template_name = self.archived_change_form_template
        return response

    def rollback_view(self, request: HttpRequest, object_id: str, version: int) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and obj.is_archived:
            if not self.has_view_permission(request, obj):
                raise PermissionDenied
            self.message_user(
                request,
                _("“%(obj)s” is archived: restore it before rolling it back.") % {"obj": obj},
                messages.WARNING,
            )
            return HttpResponseRedirect(self._url("history", obj))
        return super().rollback_view(request, object_id, version)

    # The changelist ------------------------------------------------------------------

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6 passes action_location (and warns if an override lacks it); 5.2 not.
        if action_location is None:
            actions = super().get_actions(request)
        else:
            actions = super().get_actions(request, action_location)  # type: ignore[call-arg]
        actions.pop("delete_selected", None)  # "Archive selected" instead
        status = status_of(request)
        if status == ACTIVE:
            actions.pop("restore_selected", None)
        elif status == ARCHIVED:
            for name in ("archive_selected", "rollback_to_previous"):
                actions.pop(name, None)
        return actions

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = list(super().get_list_display(request))
        if status_of(request) != ACTIVE:
            shown.append("archived_column")
        return shown

    @admin.display(description=gettext_lazy("archived"), ordering="archived_at")
    def archived_column(self, obj: BotConfig) -> str:
        if obj.archived_at is None:
            return "—"
        when = date_format(localtime(obj.archived_at), "DATETIME_FORMAT")
        who = obj.archived_by or _("unknown")
        return format_html(
            '<span class="cv-archived" title="{}">{}</span>',
            obj.archive_reason,
            _("%(when)s by %(who)s") % {"when": when, "who": who},
        )

    @admin.action(description=gettext_lazy("Archive selected bot configs"), permissions=["delete"])
    def archive_selected(
        self, request: HttpRequest, queryset: QuerySet[BotConfig]
    ) -> HttpResponse | None:
        """A confirmation page (what archiving does, a reason); its POST archives."""
        configs = list(queryset)
        to_archive = [obj for obj in configs if not obj.is_archived]
        confirmed = bool(request.POST.get("post"))
        form = ArchiveForm(request.POST if confirmed else None)
        if confirmed and form.is_valid() and to_archive:
            reason, by = form.cleaned_data["reason"], _username(request)
            names = self._each(
                request,
                to_archive,
                lambda obj: obj.archive(by=by, reason=reason),
                _archive_message(reason),
            )
            if names:
                note = _("Archived %(list)s: histories kept; the “Archived” filter lists them.") % {
                    "list": names
                }
                self.message_user(request, note, messages.SUCCESS)
            return None  # back to the changelist, as Django's delete_selected does
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": _("Archive bot configs?"),
            "subtitle": None,
            "opts": self.opts,
            "selected": to_archive,
            "already": [obj for obj in configs if obj.is_archived],
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "archive_selected",
            "breadcrumbs_as_list": BREADCRUMBS_AS_LIST,
            "changelist_url": self._changelist_url(request),
        }
        return TemplateResponse(request, self.archive_selected_template, context)

    def _each(
        self, request: HttpRequest, configs: Any, change: Callable[[BotConfig], bool], log: str
    ) -> str:
        """``change`` each config, logging those it changed; their names, quoted."""
        done = []
        for obj in configs:
            try:
                changed = change(obj)
            except BotConfig.DoesNotExist:  # purged meanwhile
                continue
            if changed:
                self.log_change(request, obj, log)
                done.append(f"“{obj}”")
        return ", ".join(done)

    @admin.action(description=gettext_lazy("Restore selected bot configs"), permissions=["change"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[BotConfig]) -> None:
        names = self._each(
            request, queryset.filter(archived_at__isnull=False), BotConfig.restore, "Restored."
        )
        if names:
            note = _("Restored %(list)s: back in the list and the API.") % {"list": names}
            self.message_user(request, note, messages.SUCCESS)
        else:
            self.message_user(request, _("None of them was archived."), messages.INFO)
