"""BotConfig in the admin: the changelist, the config editor and the rollback action.

Deleting is archiving: see ``admin/archive.py``; labels (badges, promote, the label
history, the changelist's label columns): ``admin/labels.py``; proposals (the list, the
review page): ``admin/proposals.py``, and "Propose change" on this change form for those
whose edits are reviewed: ``admin/proposing.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from io import BytesIO
from typing import Any, cast

from django import forms
from django.conf import settings as django_settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config_versions import conf
from config_versions.admin import rollback as rollback_pages
from config_versions.admin.archive import ArchivingAdmin, StatusFilter
from config_versions.admin.labels import LabelsAdmin
from config_versions.admin.proposals import ProposalsAdmin
from config_versions.admin.proposing import ProposingAdmin
from config_versions.admin.saving import OneMessagePerSave, change_outcome
from config_versions.admin.views import model_field_labels
from config_versions.changes import record_changes
from config_versions.editor_form import BotConfigAdminForm
from config_versions.forms import pretty_json
from config_versions.models import BotConfig, BotConfigQuerySet
from config_versions.proposal_forms import ProposeForm

# The model fields the form edits; the version fields are not model fields.

# A browser posts the editor's text pretty-printed and URL-encoded: indentation, and
# three bytes for each quote, colon and comma, six for each line end. Measured: about
# twice the compact size for a config of prompts and intents, seven times for one of
# small numbers in arrays. The change form reads that much, and the other fields.
POST_SIZE_FACTOR = 8
POST_SIZE_SLACK = 1024 * 1024
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

ViewFunc = Callable[..., HttpResponse]


class BotConfigAdmin(
    OneMessagePerSave, ProposingAdmin, ProposalsAdmin, LabelsAdmin, ArchivingAdmin
):
    form = BotConfigAdminForm
    change_form_template = "config_versions/admin/change_form.html"
    list_display = ["name", "slug", "version_link", "last_changed_at", "last_changed_by"]
    list_display_links = ["name"]
    list_filter = [StatusFilter]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["archive_selected", "restore_selected", "rollback_to_previous"]

    class Media:
        css = {"all": ["config_versions/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[BotConfig]:
        queryset = super().get_queryset(request)
        assert isinstance(queryset, BotConfigQuerySet)
        return queryset.with_last_version()

    # Changelist columns ----------------------------------------------------------------

    @admin.display(description=gettext_lazy("version"), ordering="current_version")
    def version_link(self, obj: BotConfig) -> str:
        if not obj.current_version:
            return "—"
        return format_html(
            '<a href="{}" title="{}">v{}</a>',
            self._url("history", obj),
            _("History"),
            obj.current_version,
        )

    @admin.display(description=gettext_lazy("last changed"), ordering="last_changed_at")
    def last_changed_at(self, obj: BotConfig) -> Any:
        return getattr(obj, "last_changed_at", None)

    @admin.display(description=gettext_lazy("changed by"), ordering="last_changed_by")
    def last_changed_by(self, obj: BotConfig) -> str:
        return getattr(obj, "last_changed_by", None) or "—"

    # Posting a large config ------------------------------------------------------------

    def max_post_bytes(self) -> int:
        """The largest add or change form body read, derived from ``MAX_CONFIG_BYTES``.

        Django refuses a form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) with a
        bare "Bad Request (400)", before any view runs; a config near the size limit
        makes a body twice that. The add and change views of this admin read their body
        themselves, up to this bound, for staff who may save a config: a config over
        the limit then gets the form's own error, and only a body far beyond any
        config is refused, unread. The rest of the site keeps Django's limit.
        """
        return conf.settings.MAX_CONFIG_BYTES * POST_SIZE_FACTOR + POST_SIZE_SLACK

    def get_urls(self) -> list[URLPattern]:
        urls = super().get_urls()
        info = self.opts.app_label, self.opts.model_name
        forms_views = {"{}_{}_add".format(*info), "{}_{}_change".format(*info)}
        return [
            URLPattern(url.pattern, self._reading_post(url.callback), url.default_args, url.name)
            if url.name in forms_views
            else url
            for url in urls
        ]

    def _reading_post(self, view: ViewFunc) -> ViewFunc:
        def read_then_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = self._post_limit(request)
            if limit is not None:
                refused = self._read_post(request, limit)
                if refused is not None:
                    return refused
            return view(request, *args, **kwargs)

        update_wrapper(read_then_view, view)
        # Django's CSRF middleware reads the POST under Django's limit before any view
        # runs, so it must skip this one; ``view`` is the admin's own view, which the
        # admin site wraps in csrf_protect: the token is checked there, on the body read
        # here, before the form sees anything.
        read_then_view.csrf_exempt = True  # type: ignore[attr-defined]
        return read_then_view

    def _post_limit(self, request: HttpRequest) -> int | None:
        """The bound for this request's body, or None to leave it to Django."""
        django_limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if (
            request.method != "POST"
            or request.content_type != FORM_CONTENT_TYPE
            or django_limit is None  # the site reads bodies of any size
            or hasattr(request, "_body")
            or getattr(request, "_read_started", False)
        ):
            return None
        # Only those who may save (or propose) a config get the larger bound; anyone else
        # is answered by the admin as usual, under Django's limit.
        if not self.admin_site.has_permission(request) or not (
            self.has_add_permission(request)
            or self.has_change_permission(request)
            or self.may_propose_here(request)
        ):
            return None
        return max(self.max_post_bytes(), django_limit)

    def _read_post(self, request: HttpRequest, limit: int) -> HttpResponse | None:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:  # refused unread
            return self._post_too_large(request, declared, limit)
        try:
            # One byte more than allowed: a body without (or understating) its length
            # is caught too, and never read further.
            body = request.read(limit + 1)
        except OSError as exc:
            raise UnreadablePostError(*exc.args) from exc
        if len(body) > limit:
            return self._post_too_large(request, len(body), limit)
        # What ``request.body`` would hold: Django parses request.POST from it, and
        # does not check its own limit again on a body already read.
        request._body = body
        request._stream = BytesIO(body)
        return None

    def _post_too_large(self, request: HttpRequest, size: int, limit: int) -> HttpResponse:
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": _("This form is too large to save"),
            "subtitle": None,
            "opts": self.opts,
            "size": size,
            "limit": limit,
            "max_config_bytes": conf.settings.MAX_CONFIG_BYTES,
            "form_url": request.get_full_path(),
        }
        return TemplateResponse(
            request, "config_versions/admin/post_too_large.html", context, status=413
        )

    # The change form ------------------------------------------------------------------

    def _can_edit(self, request: HttpRequest, obj: BotConfig | None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: BotConfig | None = None) -> Any:
        if obj is not None and self.is_proposing(request) and not obj.is_archived:
            return self.proposing_fieldsets(obj)
        if not self._can_edit(request, obj):
            return [
                (None, {"fields": ["name", "slug", "description", "current_version"]}),
                (
                    _("Configuration"),
                    {"fields": ["config_display"], "description": self._version_note(obj)},
                ),
                (_("Validation"), {"fields": ["schema"]}),
            ]
        version_fields = ["config", "reason"] + ([] if obj is None else ["expected_version"])
        own_fields = ["name", "slug", "description"] + ([] if obj is None else ["confirm_slug"])
        return [
            (None, {"fields": own_fields}),
            (
                _("Configuration"),
                {
                    "fields": version_fields,
                    # Rendered with the page: after a conflict the form moves on to the
                    # newest version, and the note names the one the editor holds.
                    "description": lazy(
                        partial(self._version_note, obj, editing=True), SafeString
                    )(),
                },
            ),
            (
                _("Validation"),
                {
                    "fields": ["schema"],
                    "classes": ["collapse"],
                    "description": _("An optional JSON Schema; every new version must satisfy it."),
                },
            ),
        ]

    def _version_note(self, obj: BotConfig | None, *, editing: bool = False) -> str:
        if obj is None or not obj.current_version:
            return ""
        history = format_html('<a href="{}">{}</a>', self._url("history", obj), _("the history"))
        if not editing:
            return format_html(
                '<span class="cv-editing">{} {}</span>',
                _("This is version %(n)s; earlier versions are in") % {"n": obj.current_version},
                format_html("{}.", history),
            )
        return format_html(
            '<span class="cv-editing">{} {} {}</span>',
            _("You are editing version %(n)s.") % {"n": obj.current_version},
            _("Saving a changed config creates version %(next)s; every version stays in")
            % {"next": obj.current_version + 1},
            format_html("{}.", history),
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: BotConfig | None = None
    ) -> tuple[str, ...]:
        if obj is not None and self.is_proposing(request) and not obj.is_archived:
            return self.proposing_readonly_fields()
        return ("current_version", "config_display")

    @admin.display(description=gettext_lazy("config"))
    def config_display(self, obj: BotConfig) -> str:
        config = obj.version_manager.current_config if obj.pk else None
        if config is None:
            return "—"
        return format_html('<pre class="cv-json-view">{}</pre>', pretty_json(config))

    def get_form(
        self,
        request: HttpRequest,
        obj: BotConfig | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[BotConfig]]:
        proposing = obj is not None and self.is_proposing(request) and not obj.is_archived
        if proposing:
            kwargs["form"] = self.propose_form
        form = super().get_form(request, obj, change, **kwargs)
        # The form saves the version itself (see BotConfigAdminForm), so it needs to
        # know who is saving and where to send them on a conflict.
        attrs: dict[str, Any] = {"user": request.user, "diff_url": None}
        if proposing:
            attrs["propose_posted"] = "_propose" in request.POST
        if obj is not None:
            attrs["diff_url"] = staticmethod(partial(self.diff_url, obj))
        return cast("type[forms.ModelForm[BotConfig]]", type(form.__name__, (form,), attrs))

    def construct_change_message(
        self, request: HttpRequest, form: forms.Form, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        """The admin log's entry: the config's own fields, and the version saved, if any.

        Django would list every changed form field, the config's reason among them; the
        version history has the reason's text, so the log names the version instead:
        "Changed Description and Config (version 4)."
        """
        if isinstance(form, ProposeForm):
            return []  # log_change says which proposal was submitted
        message = super().construct_change_message(request, form, formsets, add)
        if add:
            return message
        labels = set(model_field_labels())
        fields = [
            label
            for part in message
            for label in part.get("changed", {}).get("fields", [])
            if label in labels
        ]
        saved = getattr(form, "saved_version", None)
        if saved is not None and not saved.unchanged:
            fields.append(f"Config (version {saved.version})")
        return [{"changed": {"fields": fields}}] if fields else []

    def save_model(
        self, request: HttpRequest, obj: BotConfig, form: forms.Form, change: bool
    ) -> None:
        assert isinstance(form, BotConfigAdminForm)
        if isinstance(form, ProposeForm):
            # The form submitted a proposal; nothing of the config is saved.
            assert form.submitted is not None
            self.proposal_submitted(request, form.submitted)
            return
        if not change:
            obj.save()
            version = form.create_first_version(obj)
            self.announce(
                request,
                format_html(
                    _("The {name} “{obj}” was added with version {n}."),
                    name=self.opts.verbose_name,
                    obj=format_html('<a href="{}">{}</a>', self._url("change", obj), obj),
                    n=version.version,
                ),
            )
            return
        # The version, if any, was written by the form; the edited name, slug,
        # description and schema are saved here, each recorded with before and after,
        # in the same transaction. Only those columns: a full save would also write
        # current_version as this request read it.
        recorded = record_changes(
            obj,
            form.edited_fields(),
            reason=form.cleaned_data["reason"],
            created_by=request.user.get_username() if request.user.is_authenticated else None,
            user=request.user,
        )
        self.announce(
            request,
            *change_outcome(obj, form.saved_version, recorded, partial(self.diff_url, obj)),
        )

    # The rollback action ----------------------------------------------------------------

    @admin.action(
        description=gettext_lazy("Roll back selected configs to their previous version"),
        permissions=["rollback"],
    )
    def rollback_to_previous(
        self, request: HttpRequest, queryset: QuerySet[BotConfig]
    ) -> HttpResponse | None:
        """A confirmation page listing what each config goes back to; its POST rolls back.

        Archived configs are left out: nothing is written to them until restored."""
        archived = [str(obj) for obj in queryset.filter(archived_at__isnull=False)]
        if archived and not request.POST.get("post"):  # said once, on the confirmation
            self.message_user(
                request,
                _("Archived configs are not rolled back: %(list)s.")
                % {"list": ", ".join(f"“{name}”" for name in archived)},
                messages.WARNING,
            )
        return rollback_pages.rollback_selected(
            self, request, queryset.filter(archived_at__isnull=True)
        )
