"""The config editor: the admin form that saves a config as a new version.

Saving goes through ``manager.save`` only; this module turns what the manager answers
(a new version, no change, a merge conflict, a refusal) into what the editor shows: form
errors on the right field, and after a conflict a form that edits the newest version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config_versions.changes import TRACKED_FIELDS, check_reason
from config_versions.core.errors import (
    InvalidConfigError,
    MergeConflictError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.merge import merge_preferring_ours, three_way_merge, value_at
from config_versions.core.version import ConfigVersion
from config_versions.form_errors import ConfigErrors
from config_versions.forms import JSONConfigField, pretty_json, reason_field
from config_versions.managers import manager_options
from config_versions.models import BotConfig, BotConfigVersion

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    _ModelForm = forms.ModelForm[BotConfig]
else:
    _ModelForm = forms.ModelForm


class BotConfigAdminForm(ConfigErrors, _ModelForm):
    """Edits a BotConfig and saves its config as a new version, through the manager.

    On a change form the version is written while the form validates (by
    ``manager.save``, with the version the form was loaded at as ``base_version``),
    because only then can a refusal (an overlapping edit, the schema, the reason) come
    back as a form error: ``ModelAdmin.save_model`` cannot report one. The change view
    validates and saves in one transaction, so the version and the edited fields
    (recorded by ``config_versions.changes``) are committed together or not at all.

    An add form checks the config and reason on a scratch in-memory history; the admin
    writes version 1 once the BotConfig exists.
    """

    config = JSONConfigField(
        label=_("Config"),
        help_text=_(
            "The whole configuration as JSON. Saving a changed config creates a new version."
        ),
    )
    reason = forms.CharField(label=_("Reason"))  # replaced per form: see reason_field()
    expected_version = forms.IntegerField(
        min_value=0, required=False, widget=forms.HiddenInput(attrs={"class": "cv-expected"})
    )
    # The new slug the editor was warned about (renaming breaks API clients' URLs).
    confirm_slug = forms.CharField(required=False, widget=forms.HiddenInput)

    # Set by the admin for each request: who saves, and where the diff view is.
    user: AbstractBaseUser | AnonymousUser | None = None
    diff_url: Callable[[int, int], str] | None = None

    class Meta:
        model = BotConfig
        fields = ["name", "slug", "description", "schema"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved_version: ConfigVersion | None = None
        self._current: ConfigVersion | None = None
        adding = self.instance.pk is None
        self.fields["reason"] = reason_field(
            required=adding,
            help_text=_("Why you make this change; shown in the history.")
            if adding
            else _(
                "Why you make this change; shown in the history. Needed when something "
                "changes: the config, or the name, slug, description or schema."
            ),
        )
        if adding:
            self.fields["config"].initial = "{}"
            self.fields["reason"].initial = _("Initial configuration")
            del self.fields["expected_version"]
            del self.fields["confirm_slug"]
            return
        self.fields["expected_version"].required = True
        self._current = next(iter(self._manager().get_history(limit=1)), None)
        editing = self._current.version if self._current is not None else 0
        self.fields["expected_version"].initial = editing
        # The version note of the page names the version the editor holds.
        self.instance.current_version = editing
        self.fields["config"].initial = pretty_json(
            self._current.config if self._current is not None else {}
        )

    def _manager(self) -> ConfigVersionManager:
        return self.instance.get_version_manager(user=self.user)

    def _author(self) -> str | None:
        user = self.user
        return user.get_username() if user is not None and user.is_authenticated else None

    def edited_fields(self) -> list[str]:
        """The config's own fields (name, slug, description, schema) the editor changed."""
        return [name for name in TRACKED_FIELDS if name in self.changed_data]

    def full_clean(self) -> None:
        # After the model's own validation (unique slug, schema well-formed, description
        # length), so that nothing is written for a form that is going to be refused.
        super().full_clean()
        if not self.is_bound or self.errors or self.cleaned_data.get("config") is None:
            return
        if self.instance.pk is None:
            self._check_first_version()
        elif self._slug_rename_confirmed():
            self._save_version()

    # Adding --------------------------------------------------------------------

    def _check_first_version(self) -> None:
        """Run every rule version 1 must pass on a scratch history, writing nothing."""
        config = self.cleaned_data["config"]
        scratch = ConfigVersionManager(**manager_options(self.instance))
        try:
            scratch.save(
                config,
                reason=self.cleaned_data["reason"],
                created_by=self._author(),
                expected_version=0,
            )
        except InvalidConfigError as exc:
            self._invalid(exc, config)
        except ValidationError as exc:
            self._content_errors("config", exc, config)

    def create_first_version(self, bot_config: BotConfig) -> ConfigVersion:
        """Write version 1 of a BotConfig the admin has just saved."""
        self.saved_version = bot_config.get_version_manager(user=self.user).save(
            self.cleaned_data["config"],
            reason=self.cleaned_data["reason"],
            created_by=self._author(),
            expected_version=0,
        )
        return self.saved_version

    # Changing ------------------------------------------------------------------

    def _slug_rename_confirmed(self) -> bool:
        """A new slug is saved only when posted a second time, after a warning."""
        if "slug" not in self.changed_data:
            return True
        slug = self.cleaned_data["slug"]
        if self.cleaned_data.get("confirm_slug") == slug:
            return True
        old = self.initial.get("slug", "")
        self.add_error(
            "slug",
            ValidationError(
                _(
                    "API clients and bots find this config by its slug: after renaming "
                    "“%(old)s” to “%(new)s”, requests for “%(old)s” fail until every "
                    "client is updated. Save again to rename it."
                ),
                code="slug_rename",
                params={"old": old, "new": slug},
            ),
        )
        self._show(confirm_slug=slug)
        return False

    def _save_version(self) -> None:
        config: dict[str, Any] = self.cleaned_data["config"]
        base: int = self.cleaned_data["expected_version"]
        reason: str = self.cleaned_data["reason"]
        try:
            if self.edited_fields():
                check_reason(reason, recording=True)
            manager = self._manager()
            # A savepoint: a save that turns out to record a version needs a reason, and
            # whether it does is the manager's answer (unchanged or not), known after.
            head = (self.instance.current_version, self.instance.updated_at)
            with transaction.atomic(
                using=router.db_for_write(BotConfigVersion, instance=self.instance)
            ):
                try:
                    saved = manager.save(
                        config, reason=reason, created_by=self._author(), base_version=base
                    )
                    if not saved.unchanged:
                        check_reason(reason, recording=True)
                except BaseException:
                    # The savepoint undoes the row; undo what the write set on the
                    # instance too, or the form shown again names a version that is not.
                    self.instance.current_version, self.instance.updated_at = head
                    raise
        except MergeConflictError as exc:
            self._conflict(config, exc.expected_version, exc.actual_version, exc.conflicts)
        except VersionConflictError as exc:  # the first version was written meanwhile
            self._conflict(config, exc.expected_version, exc.actual_version, None)
        except VersionNotFoundError as exc:
            self.add_error(
                None,
                ValidationError(
                    _(
                        "This form was loaded at version %(n)s, which this config does not "
                        "have. Reload the page to edit the current version."
                    ),
                    code="no_base",
                    params={"n": exc.version},
                ),
            )
        except InvalidConfigError as exc:
            self._invalid(exc, config)
        except ValidationError as exc:
            if "schema" in self.changed_data and "config" not in self.changed_data:
                # The config as it is does not pass the new schema.
                number = self._current.version if self._current is not None else base
                self._content_errors(
                    "schema",
                    exc,
                    config,
                    prefix=gettext(
                        "The current config (version %(n)s) does not satisfy this schema: "
                    )
                    % {"n": number},
                )
            else:
                self._content_errors("config", exc, config)
        else:
            self.saved_version = saved

    def _conflict(
        self, config: dict[str, Any], started: int, newest: int, clashes: list[str] | None
    ) -> None:
        """Hand the editor the newest version with their edits on top, and say why.

        The editor then holds version ``newest`` with every edit made since ``started``
        applied, the editor's values winning where both changed the same place, and the
        hidden ``expected_version`` names ``newest``: saving again writes that.
        """
        manager = self._manager()
        current = manager.get_version(newest)
        if current is None:  # the history vanished (the config was deleted meanwhile)
            self.add_error(
                None, ValidationError(gettext("This config no longer exists."), code="gone")
            )
            return
        base = manager.get_version(started) if started else None
        base_config = base.config if base is not None else {}
        if clashes is None:  # for the message only: the manager decided already
            clashes = three_way_merge(base_config, config, current.config)[1]
        resolved = merge_preferring_ours(base_config, config, current.config)
        self._show(config=pretty_json(resolved), expected_version=str(current.version))
        self.instance.current_version = current.version
        who = current.created_by or gettext("someone")
        parts: list[Any] = [
            gettext(
                "Version %(current)s was saved by %(who)s after you opened this form at "
                "version %(started)s, so nothing was saved."
            )
            % {"current": current.version, "who": who, "started": started}
        ]
        if clashes:
            parts.append(
                ngettext(
                    "Both of you changed %(paths)s:",
                    "Both of you changed %(paths)s:",
                    len(clashes),
                )
                % {"paths": ", ".join(clashes)}
            )
            parts.append(
                format_html(
                    '<ul class="cv-clashes">{}</ul>',
                    format_html_join(
                        "",
                        "<li><code>{}</code>: {}</li>",
                        (
                            (
                                path,
                                gettext("yours %(ours)s, version %(n)s has %(theirs)s")
                                % {
                                    "ours": shown_at(config, path),
                                    "n": current.version,
                                    "theirs": shown_at(current.config, path),
                                },
                            )
                            for path in clashes
                        ),
                    ),
                )
            )
            parts.append(
                gettext(
                    "The editor now holds version %(current)s with your edits applied, "
                    "yours where you both changed something: check it and save again to "
                    "keep it."
                )
                % {"current": current.version}
            )
        else:
            parts.append(
                gettext(
                    "The editor now holds your edits applied on top of version %(current)s: "
                    "check them and save again."
                )
                % {"current": current.version}
            )
        if self.diff_url is not None and base is not None:
            parts.append(
                format_html(
                    '<a href="{}" class="cv-conflict-diff">{}</a>',
                    self.diff_url(base.version, current.version),
                    gettext("Compare version %(a)s with version %(b)s")
                    % {"a": base.version, "b": current.version},
                )
            )
        message = format_html_join(" ", "{}", ((part,) for part in parts))
        self.add_error(None, ValidationError(message, code="conflict"))


def shown_at(document: Any, path: str, limit: int = 60) -> str:
    """The value at ``path`` as short JSON, or "(removed)"."""
    found, value = value_at(document, path)
    if not found:
        return gettext("(removed)")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
