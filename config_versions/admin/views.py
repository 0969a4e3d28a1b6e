"""The admin's history, diff and rollback views for BotConfig.

Reading goes through the version manager and the display module; the one write,
rollback, is a POST that calls ``manager.rollback`` (its GET is the confirmation page,
see ``admin/rollback.py``). No GET here writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import django
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from config_versions import conf
from config_versions.admin import rollback as rollback_pages
from config_versions.admin.diff_html import render_rows, render_summary
from config_versions.admin.field_changes import OtherChanges, other_change_row
from config_versions.core.diff import diff_configs
from config_versions.core.version import ConfigVersion
from config_versions.diff_display import side_by_side
from config_versions.forms import DiffForm
from config_versions.models import BotConfig, BotConfigChange, BotConfigVersion

if TYPE_CHECKING:
    from config_versions.admin.labels import LabelLink

    _ModelAdmin = admin.ModelAdmin[BotConfig]
else:
    _ModelAdmin = admin.ModelAdmin

PAGE_VAR = "p"
# A config's own fields: editing them makes no version; config_versions.changes records it.
MODEL_FIELDS = ("name", "slug", "description", "schema")
OTHER_CHANGES_SHOWN = 10
# Changes the diff page's summary lists, unless asked for all (``?changes=all``).
SUMMARY_LISTED = 200


def model_field_labels() -> list[str]:
    """The labels of MODEL_FIELDS as Django's admin log records them (untranslated)."""
    with translation.override(None):
        return [
            str(capfirst(BotConfig._meta.get_field(name).verbose_name))  # type: ignore[union-attr]
            for name in MODEL_FIELDS
        ]


# Django 6 renders breadcrumbs as a list; 5.2 as a line of links.
BREADCRUMBS_AS_LIST = django.VERSION >= (6, 0)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    version: int
    created_at: datetime
    author: str
    reason: str
    rollback_to: int | None
    merged_onto: int | None
    is_current: bool
    changes_url: str
    rollback_url: str
    # Filled in by admin/labels.py when labels are declared: the labels pointing at
    # this version, and the "Promote to …" links the user may follow.
    labels: tuple[LabelLink, ...] = ()
    promotions: tuple[LabelLink, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherPagePick:
    name: str  # "from" or "to"
    version: int
    page: int


@dataclass(frozen=True, slots=True)
class VersionInfo:
    number: int
    created_at: datetime
    author: str
    reason: str
    rollback_to: int | None
    is_current: bool
    rollback_url: str


class VersionHistoryAdmin(_ModelAdmin):
    """History, side-by-side diff and rollback for a BotConfig admin.

    Template names are attributes so that a site can point them at its own templates.
    """

    object_history_template = "config_versions/admin/object_history.html"
    diff_template = "config_versions/admin/diff.html"

    # URLs ---------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/diff/",
                wrap(self.diff_view),
                name="{}_{}_diff".format(*info),
            ),
            path(
                "<path:object_id>/rollback/<int:version>/",
                wrap(self.rollback_view),
                name="{}_{}_rollback".format(*info),
            ),
            *super().get_urls(),
        ]

    def _url(
        self, name: str, obj: BotConfig, *args: Any, query: dict[str, Any] | None = None
    ) -> str:
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=[quote(obj.pk), *args],
            current_app=self.admin_site.name,
        )
        return f"{url}?{urlencode(query, doseq=True)}" if query else url

    def diff_url(self, obj: BotConfig, from_version: int, to_version: int) -> str:
        return self._url("diff", obj, query={"from": from_version, "to": to_version})

    # Permissions --------------------------------------------------------------------

    def has_rollback_permission(self, request: HttpRequest, obj: BotConfig | None = None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.rollback_{self.opts.model_name}")

    def _get_viewable(self, request: HttpRequest, object_id: str) -> BotConfig | HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._missing(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def _missing(self, request: HttpRequest, object_id: str) -> HttpResponse:
        # What Django's own views answer for a missing object: a message and the index.
        self.message_user(
            request,
            # Django's own wording, so that its translations apply.
            _("%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?")  # noqa: RUF001
            % {"name": self.opts.verbose_name, "key": unquote(object_id)},
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:index", current_app=self.admin_site.name))

    # Shared context ------------------------------------------------------------------

    def _context(
        self, request: HttpRequest, obj: BotConfig, title: str, **extra: Any
    ) -> dict[str, Any]:
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "object": obj,
            "original": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "preserved_filters": self.get_preserved_filters(request),
            "has_rollback_permission": self.has_rollback_permission(request, obj),
            "has_change_permission": self.has_change_permission(request, obj),
            "breadcrumbs_as_list": BREADCRUMBS_AS_LIST,
            "history_url": self._url("history", obj),
            "change_url": self._url("change", obj),
            "changelist_url": reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name,
            ),
            **extra,
        }

    # History -------------------------------------------------------------------------

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        # Numbers run 1..current_version without gaps, so a page is a range of numbers:
        # one indexed range query per page, however long the history (no COUNT, no OFFSET).
        paginator = Paginator(
            range(obj.current_version, 0, -1), conf.settings.ADMIN_HISTORY_PAGE_SIZE
        )
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        numbers = page.object_list
        current = obj.current_version
        # The two versions picked for comparison travel in the query string from page to
        # page (the page links submit the compare form), so any two can be compared.
        picks = {
            "from": _version_param(request.GET.get("from"), current) or max(current - 1, 1),
            "to": _version_param(request.GET.get("to"), current) or current,
        }
        rows: list[HistoryRow] = []
        if obj.current_version:
            versions = (
                BotConfigVersion.objects.filter(
                    bot_config=obj, version__lte=numbers[0], version__gte=numbers[-1]
                )
                .defer("config")  # megabytes each, and not shown here
                .select_related("created_by_user")
                .order_by("-version")
            )
            rows = [self._history_row(obj, version) for version in versions]
        context = self._context(
            request,
            obj,
            _("Change history: %s") % obj,
            rows=rows,
            page=page,
            page_var=PAGE_VAR,
            page_range=list(paginator.get_elided_page_range(page.number)),
            ellipsis=Paginator.ELLIPSIS,
            default_from=picks["from"] if current else 0,
            default_to=picks["to"],
            # A pick on another page stays a checked radio of its group, shown above the
            # table: choosing another version of that group on this page replaces it.
            other_page_picks=[
                OtherPagePick(name, number, (current - number) // paginator.per_page + 1)
                for name, number in picks.items()
                if current and number not in numbers
            ],
            diff_base_url=self._url("diff", obj),
            other_changes=self._other_changes(obj),
            **(extra_context or {}),
        )
        return TemplateResponse(request, self.object_history_template, context)

    def _other_changes(self, obj: BotConfig) -> OtherChanges:
        """Recent recorded changes of the config's own fields (name, slug, description,
        schema), newest first: they make no version, so the version table cannot show
        them. One query, at most OTHER_CHANGES_SHOWN rows and whether there are more."""
        recorded = list(
            BotConfigChange.objects.filter(bot_config=obj)
            .select_related("created_by_user")
            .order_by("-created_at", "id")[: OTHER_CHANGES_SHOWN + 1]
        )
        return OtherChanges(
            [other_change_row(change) for change in recorded[:OTHER_CHANGES_SHOWN]],
            more=len(recorded) > OTHER_CHANGES_SHOWN,
        )

    def _history_row(self, obj: BotConfig, version: BotConfigVersion) -> HistoryRow:
        number = version.version
        user = version.created_by_user
        metadata = version.metadata if isinstance(version.metadata, dict) else {}
        merged_onto = metadata.get("merged_onto")
        return HistoryRow(
            version=number,
            created_at=version.created_at,
            author=version.created_by or (user.get_username() if user is not None else ""),
            reason=version.reason,
            rollback_to=version.rollback_to,
            merged_onto=merged_onto if isinstance(merged_onto, int) else None,
            is_current=number == obj.current_version,
            changes_url=self.diff_url(obj, number - 1, number) if number > 1 else "",
            rollback_url=self._url("rollback", obj, number),
        )

    # Diff ----------------------------------------------------------------------------

    def diff_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        current = obj.current_version
        form = DiffForm(request.GET, current_version=current)
        title = _("Compare versions: %s") % obj
        if not current or not form.is_valid():
            context = self._context(request, obj, title, form=form, display=None)
            status = 400 if current and form.errors else 200
            return TemplateResponse(request, self.diff_template, context, status=status)
        a, b = form.cleaned_data["from_version"], form.cleaned_data["to_version"]
        manager = obj.get_version_manager()
        old, new = manager.get_version(a), manager.get_version(b)
        if old is None or new is None:  # numbers are gapless; only a deletion gets here
            context = self._context(request, obj, title, form=form, display=None)
            return TemplateResponse(request, self.diff_template, context, status=404)
        expand = _expanded(request.GET.getlist("expand"))
        list_all = request.GET.get("changes") == "all"
        # The versions were read through the manager; the core's pure function diffs
        # them without reading both from the database a second time.
        changes = diff_configs(old.config, new.config)["changes"]
        display = side_by_side(
            old.config,
            new.config,
            changes,
            context=conf.settings.ADMIN_DIFF_CONTEXT,
            expand=expand,
            summary_limit=None if list_all else SUMMARY_LISTED,
        )
        kept = {"from": a, "to": b, **_kept(expand)}
        context = self._context(
            request,
            obj,
            title,
            form=form,
            display=display,
            old=old,
            new=new,
            rows_html=render_rows(
                display, urlencode({**kept, **({"changes": "all"} if list_all else {})}, doseq=True)
            ),
            summary_html=render_summary(display.summary),
            unlisted_changes=display.change_count - len(display.summary),
            all_changes_url=f"?{urlencode({**kept, 'changes': 'all'}, doseq=True)}#cv-summary",
            all_lines_url=self.diff_url(obj, a, b) + "&expand=all",
            folded_url=self.diff_url(obj, a, b),
            expanded_all=expand == "all",
            older_url=self.diff_url(obj, a - 1, b - 1) if min(a, b) > 1 else "",
            newer_url=self.diff_url(obj, a + 1, b + 1) if max(a, b) < current else "",
            swap_url=self.diff_url(obj, b, a),
            versions=[self._version_info(obj, v) for v in (old, new)],
            current_version=current,
        )
        return TemplateResponse(request, self.diff_template, context)

    def _version_info(self, obj: BotConfig, version: ConfigVersion) -> VersionInfo:
        rollback_to = version.metadata.get("rollback_to")
        return VersionInfo(
            number=version.version,
            created_at=datetime.fromtimestamp(version.timestamp, tz=UTC),
            author=version.created_by or "",
            reason=version.reason,
            rollback_to=rollback_to if isinstance(rollback_to, int) else None,
            is_current=version.version == obj.current_version,
            rollback_url=""
            if version.version == obj.current_version
            else self._url("rollback", obj, version.version),
        )

    # Rollback ------------------------------------------------------------------------

    def rollback_view(self, request: HttpRequest, object_id: str, version: int) -> HttpResponse:
        """GET: the confirmation page (diff, reason); POST: the rollback (see admin.rollback)."""
        expand = _expanded(request.GET.getlist("expand"))
        return rollback_pages.rollback_view(
            self,
            request,
            object_id,
            version,
            expand=expand,
            expand_query=urlencode(_kept(expand), doseq=True),
        )


def _kept(expand: frozenset[int] | Literal["all"]) -> dict[str, list[Any]]:
    # Unfolding one run keeps those unfolded before.
    if not expand:
        return {}
    return {"expand": ["all"] if expand == "all" else sorted(expand)}


def _version_param(value: str | None, current: int) -> int | None:
    """A version number from the query string, if it names one of the config's versions."""
    if value is None or not value.isascii() or not value.isdecimal() or len(value) > 9:
        return None
    number = int(value)
    return number if 1 <= number <= current else None


def _expanded(values: list[str]) -> frozenset[int] | Literal["all"]:
    if "all" in values:
        return "all"
    return frozenset(int(v) for v in values if v.isdecimal() and len(v) < 10)
