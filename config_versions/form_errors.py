"""Refusals of a config typed in the admin's JSON editor, shown on the field they concern.

The config editor (``editor_form.py``) and the revision form of a proposal
(``proposal_forms.py``) both send a typed config to the version manager and show what it
refuses the same way: each problem with its line in the pretty text, on the config or
reason field it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext

from config_versions.core.errors import InvalidConfigError
from config_versions.diff_display import json_lines
from config_versions.forms import capitalized, pretty_json, reason_error

if TYPE_CHECKING:
    from django import forms

    _Form = forms.BaseForm
else:
    _Form = object


class ConfigErrors(_Form):
    """Form methods that turn the manager's refusals of a config into field errors."""

    def _invalid(self, exc: InvalidConfigError, config: dict[str, Any]) -> None:
        """A refusal of the manager, on the field it names."""
        if exc.field == "config":
            self._content_errors("config", exc, config)
        elif exc.field == "reason":
            self.add_error("reason", reason_error(exc))
        else:  # created_by: who is signed in, not something the form can fix
            self.add_error(None, ValidationError(capitalized(str(exc)), code="invalid"))

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
