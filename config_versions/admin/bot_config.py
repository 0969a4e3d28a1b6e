"""BotConfig in the admin: the changelist, the config editor and the rollback action."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config_versions.admin.views import MODEL_FIELDS, VersionHistoryAdmin, model_field_labels
from config_versions.core.errors import InvalidConfigError, VersionConflictError
from config_versions.forms import BotConfigAdminForm, pretty_json
from config_versions.models import BotConfig, BotConfigQuerySet, BotConfigVersion

# The model fields the form edits; the version fields are not model fields.


class BotConfigAdmin(VersionHistoryAdmin):
    form = BotConfigAdminForm
    change_form_template = "config_versions/admin/change_form.html"
    list_display = ["name", "slug", "version_link", "last_changed_at", "last_changed_by"]
    list_display_links = ["name"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["rollback_to_previous"]

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

    # The change form ------------------------------------------------------------------

    def _can_edit(self, request: HttpRequest, obj: BotConfig | None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: BotConfig | None = None) -> Any:
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
        return [
            (None, {"fields": ["name", "slug", "description"]}),
            (
                _("Configuration"),
                {"fields": version_fields, "description": self._version_note(obj, editing=True)},
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
        form = super().get_form(request, obj, change, **kwargs)
        # The form saves the version itself (see BotConfigAdminForm), so it needs to
        # know who is saving and where to send them on a conflict.
        attrs: dict[str, Any] = {"user": request.user, "diff_url": None}
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
        if saved is not None:
            fields.append(f"Config (version {saved.version})")
        return [{"changed": {"fields": fields}}] if fields else []

    def save_model(
        self, request: HttpRequest, obj: BotConfig, form: forms.Form, change: bool
    ) -> None:
        assert isinstance(form, BotConfigAdminForm)
        if not change:
            obj.save()
            version = form.create_first_version(obj)
            self.message_user(request, _("Saved version %(n)s.") % {"n": version.version})
            return
        # Only the edited columns: a full save would also write current_version as this
        # request read it, undoing the head moved by a version saved meanwhile.
        edited = [name for name in MODEL_FIELDS if name in form.changed_data]
        if edited:
            obj.save(update_fields=[*edited, "updated_at"])
        if form.saved_version is not None:
            self.message_user(
                request,
                _("Saved version %(n)s.") % {"n": form.saved_version.version},
                messages.SUCCESS,
            )
        elif form.config_unchanged:
            self.message_user(
                request,
                _("The config is unchanged, so no new version was created."),
                messages.INFO,
            )

    # Deleting ------------------------------------------------------------------------

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        # Deleting a config deletes its history (the contract): that is decided by
        # delete_botconfig, not by the version admin, which refuses every deletion of
        # a single version. Listing each version would also load every config, megabytes
        # each, just to print its name; the page counts them instead.
        configs = list(objs)
        opts, version_opts = self.opts, BotConfigVersion._meta
        counts = dict(
            BotConfigVersion.objects.filter(bot_config__in=configs)
            .values_list("bot_config")
            .annotate(n=Count("pk"))
            .values_list("bot_config", "n")
        )
        deleted: list[Any] = []
        for obj in configs:
            n = counts.get(obj.pk, 0)
            deleted.append(
                format_html(
                    '{}: <a href="{}">{}</a>',
                    capfirst(opts.verbose_name),
                    self._url("change", obj),
                    obj,
                )
            )
            if n:
                deleted.append(
                    [
                        ngettext("%(n)s version of its history", "%(n)s versions of its history", n)
                        % {"n": n}
                    ]
                )
        model_count = {str(opts.verbose_name_plural): len(configs)}
        if sum(counts.values()):
            model_count[str(version_opts.verbose_name_plural)] = sum(counts.values())
        perms_needed = set() if self.has_delete_permission(request) else {str(opts.verbose_name)}
        return deleted, model_count, perms_needed, []

    # The rollback action ----------------------------------------------------------------

    @admin.action(
        description=gettext_lazy("Roll back selected configs to their previous version"),
        permissions=["rollback"],
    )
    def rollback_to_previous(self, request: HttpRequest, queryset: QuerySet[BotConfig]) -> None:
        user = request.user
        author = user.get_username() if user.is_authenticated else None
        done: list[str] = []
        for obj in queryset:
            current = obj.current_version
            if current < 2:
                self.message_user(
                    request,
                    _("“%(obj)s” has no previous version to roll back to.") % {"obj": obj},
                    messages.WARNING,
                )
                continue
            try:
                created = obj.get_version_manager(user=user).rollback(
                    current - 1, created_by=author, expected_version=current
                )
            except VersionConflictError:
                problem = _("it was saved again meanwhile")
            except ValidationError as exc:
                problem = "; ".join(exc.messages)
            except InvalidConfigError as exc:
                problem = str(exc)
            else:
                self.log_change(request, obj, f"Rolled back to version {current - 1}.")
                done.append(
                    _("“%(obj)s” to version %(to)s (now version %(new)s)")
                    % {"obj": obj, "to": current - 1, "new": created.version}
                )
                continue
            self.message_user(
                request,
                _("“%(obj)s” was not rolled back: %(problem)s.") % {"obj": obj, "problem": problem},
                messages.ERROR,
            )
        if done:
            self.message_user(
                request, _("Rolled back %(list)s.") % {"list": "; ".join(done)}, messages.SUCCESS
            )
