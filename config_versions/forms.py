"""Admin forms: the config editor, and the small forms of the diff and rollback views."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config_versions.core.diff import escape_pointer_token
from config_versions.core.errors import ConfigExistsError, InvalidConfigError, VersionConflictError
from config_versions.core.jsondata import canonical_json
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.merge import three_way_merge
from config_versions.core.version import ConfigVersion
from config_versions.diff_display import json_lines
from config_versions.managers import manager_options
from config_versions.models import BotConfig

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    _ModelForm = forms.ModelForm[BotConfig]
else:
    _ModelForm = forms.ModelForm


def pretty_json(value: Any) -> str:
    """The one text form configs are edited and compared in: sorted keys, indent 2."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class JSONEditorWidget(forms.Textarea):
    template_name = "config_versions/admin/widgets/json_editor.html"

    class Media:
        js = ["config_versions/json_editor.js"]

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {
            "class": "cv-json-editor",
            "rows": "24",
            "spellcheck": "false",
            "autocomplete": "off",
            "autocapitalize": "off",
            "wrap": "off",
        }
        super().__init__({**defaults, **(attrs or {})})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    # Python would keep the last value silently; one of the two was typed in vain.
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            raise ValidationError(
                _("The key %(key)s appears twice in one object; JSON keys must be unique."),
                code="duplicate_key",
                params={"key": json.dumps(key, ensure_ascii=False)},
            )
        seen.add(key)
    return result  # pragma: no cover - a duplicate is always found above


def _lone_surrogate(value: Any, path: str) -> tuple[str, str] | None:
    """The JSON Pointer and character of the first unpaired surrogate in keys or strings."""
    stack = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            for char in node:
                if "\ud800" <= char <= "\udfff":
                    return where, char
        elif isinstance(node, dict):
            for key, child in node.items():
                sub = f"{where}/{escape_pointer_token(key)}"
                stack.append((key, sub))
                stack.append((child, sub))
        elif isinstance(node, list):
            stack.extend((child, f"{where}/{index}") for index, child in enumerate(node))
    return None


class JSONConfigField(forms.CharField):
    """A JSON object typed as text. Errors name the line and column."""

    widget = JSONEditorWidget
    default_error_messages = {
        "invalid_json": _("Invalid JSON on line %(line)s, column %(column)s: %(message)s."),
        "not_object": _("The config must be a JSON object ({...}), not %(kind)s."),
        "surrogate": _(
            "Invalid text on line %(line)s, column %(column)s: %(escape)s is half of a "
            "surrogate pair, not a character (at %(path)s)."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value if isinstance(value, str) or value is None else pretty_json(value)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        try:
            parsed = json.loads(
                text, object_pairs_hook=_unique_pairs, parse_constant=_reject_constant
            )
        except json.JSONDecodeError as exc:
            raise ValidationError(
                self.error_messages["invalid_json"],
                code="invalid_json",
                params={"line": exc.lineno, "column": exc.colno, "message": exc.msg},
            ) from None
        except ValueError as exc:  # NaN / Infinity
            raise ValidationError(str(exc), code="invalid_json") from None
        except RecursionError:
            raise ValidationError(
                _("The JSON is nested too deeply."), code="invalid_json"
            ) from None
        if (found := _lone_surrogate(parsed, "")) is not None:
            # A \ud800 escape parses, but is not text: no page or database could hold it.
            path, char = found
            escape = f"\\u{ord(char):04x}"
            offset = text.lower().find(escape)
            before = text[: max(offset, 0)]
            raise ValidationError(
                self.error_messages["surrogate"],
                code="invalid_json",
                params={
                    "escape": escape,
                    # The path may hold the surrogate too (in a key): show it escaped.
                    "path": (path or "/").encode("utf-8", "backslashreplace").decode(),
                    "line": before.count("\n") + 1,
                    "column": offset - before.rfind("\n"),
                },
            )
        if not isinstance(parsed, dict):
            kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(parsed), "")
            raise ValidationError(
                self.error_messages["not_object"],
                code="not_object",
                params={"kind": kind or ("null" if parsed is None else "a number")},
            )
        return parsed

    def validate(self, value: Any) -> None:
        # ``{}`` is a valid (empty) config, though Django counts it among empty values.
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")

    def has_changed(self, initial: Any, data: Any) -> bool:
        # Compare meaning, not text: a browser sends the textarea back with CRLF line ends.
        try:
            before = self.to_python(initial) if isinstance(initial, str) else initial
            return canonical_json(before) != canonical_json(self.to_python(data))
        except (ValidationError, ValueError, TypeError):
            return True


class BotConfigAdminForm(_ModelForm):
    """Edits a BotConfig and saves its config as a new version.

    On a change form the version is written while the form validates, because only then
    can a refusal (someone saved meanwhile, the schema says no) come back as a form
    error: ``ModelAdmin.save_model`` has no way to report one, and checking here but
    writing there would let another editor slip in between. The admin's change view
    runs validation and saving in one transaction, so the new version and the edited
    name or description are committed together or not at all.

    On an add form there is nothing to race with: the config is checked here (same
    rules, on a scratch in-memory history) and version 1 is written by the admin once
    the BotConfig exists.
    """

    config = JSONConfigField(
        label=_("Config"),
        help_text=_("The whole configuration as JSON. Saving creates a new version."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Why you make this change; shown in the history."),
        widget=forms.TextInput(attrs={"class": "vLargeTextField cv-reason"}),
    )
    expected_version = forms.IntegerField(
        min_value=0, required=False, widget=forms.HiddenInput(attrs={"class": "cv-expected"})
    )

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
        self.config_unchanged = False
        self._current: ConfigVersion | None = None
        if self.instance.pk is None:
            self.fields["config"].initial = "{}"
            self.fields["reason"].initial = _("Initial configuration")
            del self.fields["expected_version"]
            return
        self.fields["expected_version"].required = True
        self.fields["expected_version"].initial = self.instance.current_version
        self._current = next(iter(self._manager().get_history(limit=1)), None)
        self.fields["config"].initial = pretty_json(
            self._current.config if self._current is not None else {}
        )

    def _manager(self) -> ConfigVersionManager:
        return self.instance.get_version_manager(user=self.user)

    def _author(self) -> str | None:
        user = self.user
        return user.get_username() if user is not None and user.is_authenticated else None

    def full_clean(self) -> None:
        # After the model's own validation (unique slug, schema well-formed), so that
        # nothing is written for a form that is going to be refused anyway.
        super().full_clean()
        if not self.is_bound or self.errors or self.cleaned_data.get("config") is None:
            return
        if self.instance.pk is None:
            self._check_rules(self.cleaned_data["config"], "config")
        else:
            self._save_version()

    # Adding --------------------------------------------------------------------

    def _check_rules(self, config: dict[str, Any], field: str, prefix: str = "") -> bool:
        """Run every rule a new version must pass, writing nothing."""
        try:
            ConfigVersionManager(**manager_options(self.instance)).validate(config)
        except (ValidationError, InvalidConfigError) as exc:
            self._content_errors(field, exc, config, prefix)
            return False
        return True

    def create_first_version(self, bot_config: BotConfig) -> ConfigVersion:
        """Write version 1 of a BotConfig the admin has just saved."""
        self.saved_version = bot_config.get_version_manager(user=self.user).create(
            self.cleaned_data["config"],
            reason=self.cleaned_data["reason"],
            created_by=self._author(),
        )
        return self.saved_version

    # Changing ------------------------------------------------------------------

    def _save_version(self) -> None:
        config: dict[str, Any] = self.cleaned_data["config"]
        expected: int = self.cleaned_data["expected_version"]
        manager = self._manager()
        # Read when the form was built, moments ago; a version saved since is still
        # caught by update()'s expected_version.
        current = self._current
        submitted = canonical_json(config)
        if current is not None and submitted == canonical_json(current.config):
            self._unchanged(current)
            return
        if current is not None and expected != current.version:
            base = manager.get_version(expected) if expected else None
            if base is not None and submitted == canonical_json(base.config):
                # The editor left the config as loaded; a newer version stays current.
                self._unchanged(current)
            else:
                self._conflict(config, base, current)
            return
        try:
            if current is None:
                self.saved_version = manager.create(
                    config, reason=self.cleaned_data["reason"], created_by=self._author()
                )
            else:
                self.saved_version = manager.update(
                    config,
                    reason=self.cleaned_data["reason"],
                    created_by=self._author(),
                    expected_version=expected,
                )
        except VersionConflictError as exc:
            latest = manager.get_version(exc.actual_version)
            self._conflict(config, manager.get_version(expected), latest)
        except ValueError as exc:
            if isinstance(exc, InvalidConfigError):
                self._content_errors("config", exc, config)
            elif isinstance(exc, ConfigExistsError):  # someone created version 1 meanwhile
                self._conflict(config, None, manager.get_version(1))
            else:
                raise
        except ValidationError as exc:
            self._content_errors("config", exc, config)

    def _unchanged(self, current: ConfigVersion) -> None:
        self.config_unchanged = True
        if "schema" in self.changed_data:
            self._check_rules(
                current.config,
                "schema",
                prefix=gettext("The current config (version %(n)s) does not satisfy this schema: ")
                % {"n": current.version},
            )

    def _conflict(
        self, config: dict[str, Any], base: ConfigVersion | None, current: ConfigVersion | None
    ) -> None:
        if current is None:  # the history vanished (the config was deleted meanwhile)
            self.add_error(
                None, ValidationError(gettext("This config no longer exists."), code="gone")
            )
            return
        started = base.version if base is not None else self.cleaned_data["expected_version"]
        who = current.created_by or gettext("someone")
        intro = gettext(
            "Version %(current)s was saved by %(who)s after you opened this form at version "
            "%(started)s, so nothing was saved."
        ) % {"current": current.version, "who": who, "started": started}
        merged, clashes = (None, [""])
        if base is not None:
            merged, clashes = three_way_merge(base.config, config, current.config)
        if not clashes and merged is not None:
            # Their edits and ours touch different places: offer the combination.
            self._show(config=pretty_json(merged), expected_version=str(current.version))
            advice = gettext(
                "The editor now holds your edits applied on top of version %(current)s: "
                "check them and save again."
            ) % {"current": current.version}
        elif base is not None:
            advice = gettext(
                "Both of you changed %(paths)s. Your text is kept below; compare the versions, "
                "then reload this page to edit version %(current)s."
            ) % {"paths": ", ".join(clashes), "current": current.version}
        else:
            advice = gettext(
                "Your text is kept below; reload this page to edit the current version."
            )
        if self.diff_url is not None and base is not None:
            link = format_html(
                '<a href="{}" class="cv-conflict-diff">{}</a>',
                self.diff_url(base.version, current.version),
                gettext("Compare version %(a)s with version %(b)s")
                % {"a": base.version, "b": current.version},
            )
            message = format_html("{} {} {}", intro, advice, link)
        else:
            message = format_html("{} {}", intro, advice)
        self.add_error(None, ValidationError(message, code="conflict"))

    # Errors about the content ------------------------------------------------------

    def _content_errors(
        self, field: str, exc: ValidationError | InvalidConfigError, config: Any, prefix: str = ""
    ) -> None:
        """Report each problem with its line in the pretty text, and show that text."""
        _lines, spans = json_lines(config)
        problems: list[tuple[str, str]]
        if isinstance(exc, InvalidConfigError):
            problems = list(exc.errors)
        else:
            problems = []
            for error in exc.error_list:
                params = error.params or {}
                if error.code == "schema" and "path" in params:
                    problems.append((params["path"], str(params["message"])))
                else:
                    problems.append(("", " ".join(error.messages)))
        messages = []
        for path, text in problems:
            key = "" if path == "/" else path
            if path and key in spans:
                messages.append(
                    gettext("Line %(line)s, %(path)s: %(message)s")
                    % {"line": spans[key][0] + 1, "path": path or "/", "message": text}
                )
            else:
                messages.append(f"{path}: {text}" if path else text)
        self.add_error(field, [ValidationError(prefix + m, code="invalid") for m in messages])
        if field == "config":
            # Line numbers refer to the pretty text, so show exactly that text.
            self._show(config=pretty_json(config))

    def _show(self, **values: str) -> None:
        """Re-render fields with other text than was posted (the form is not saved)."""
        data = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        if not isinstance(self.data, QueryDict):
            data.update(self.data)
        for name, value in values.items():
            data[self.add_prefix(name)] = value
        self.data = data


class DiffForm(forms.Form):
    """The two versions the diff view compares (``?from=N&to=M``)."""

    from_version = forms.IntegerField(label=_("From version"), min_value=1)
    to_version = forms.IntegerField(label=_("To version"), min_value=1)

    def __init__(self, data: Any, *, current_version: int) -> None:
        renamed = {
            "from_version": data.get("from", max(current_version - 1, 1)),
            "to_version": data.get("to", current_version),
        }
        super().__init__(renamed)
        for name in ("from_version", "to_version"):
            field = self.fields[name]
            field.validators.append(_at_most(current_version))
            field.widget.attrs.update({"max": current_version, "class": "cv-version-input"})


def _at_most(current_version: int) -> Callable[[int], None]:
    def check(value: int) -> None:
        if value > current_version:
            raise ValidationError(
                _("There is no version %(n)s; the newest is %(current)s."),
                code="max_value",
                params={"n": value, "current": current_version},
            )

    return check


class RollbackForm(forms.Form):
    """What a rollback button posts besides the target version in the URL."""

    expected_version = forms.IntegerField(min_value=0, required=False)
    reason = forms.CharField(max_length=500, required=False)
