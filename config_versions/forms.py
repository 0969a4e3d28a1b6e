"""Admin forms: the JSON text field, the reason input, and the diff, rollback and promote
forms.

The config editor itself, the form that saves a new version, is in ``editor_form.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config_versions.changes import ReasonRequiredError
from config_versions.conf import settings as cv_settings
from config_versions.core.diff import escape_pointer_token
from config_versions.core.errors import InvalidConfigError
from config_versions.core.jsondata import canonical_json


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


def reason_field(*, required: bool, help_text: Any = "", initial: str = "") -> forms.CharField:
    """A reason input bounded by the manager's limit (``MAX_REASON_LENGTH``, read now)."""
    return forms.CharField(
        label=_("Reason"),
        required=required,
        max_length=cv_settings.MAX_REASON_LENGTH,
        initial=initial or None,
        help_text=help_text,
        widget=forms.TextInput(attrs={"class": "vLargeTextField cv-reason"}),
    )


def reason_error(exc: InvalidConfigError) -> ValidationError:
    """The manager's (or the change recorder's) refusal of a reason, as a field error."""
    if isinstance(exc, ReasonRequiredError):
        return ValidationError(
            _("This field is required when something changes: the history keeps why."),
            code="required",
        )
    return ValidationError(capitalized(str(exc)), code="invalid")


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


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
    """The rollback confirmation: a reason and the version the page showed as current.

    The changelist action's confirmation uses it for its one reason (its versions
    travel per config); blank means the manager's "Rollback to version N".
    """

    reason = forms.CharField(required=False)  # replaced: see reason_field()
    expected_version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, reason_help: Any = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = reason_field(required=False, help_text=reason_help)


class PromoteForm(forms.Form):
    """The "Promote to …" confirmation: a reason and where the label pointed when the
    page was shown (0: not set), so that a move made meanwhile is refused."""

    reason = forms.CharField(required=False)  # replaced: see reason_field()
    expected_version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, reason_help: Any = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = reason_field(required=False, help_text=reason_help)
