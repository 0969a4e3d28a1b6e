"""What the change form says after a save: one message for each outcome.

Django's admin adds "… was changed successfully" to every save; the config editor has
more to say (which version was written, whether it was merged onto someone's newer
version, that nothing changed at all), and says it instead, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.text import capfirst, get_text_list
from django.utils.translation import gettext as _

from config_versions.core.version import ConfigVersion
from config_versions.models import BotConfig, BotConfigChange, BotConfigVersion

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[BotConfig]
else:
    _ModelAdmin = admin.ModelAdmin

# Request attributes: the message saved for after the save, and "say nothing else".
_OUTCOME = "_config_versions_outcome"
_QUIET = "_config_versions_quiet"


class OneMessagePerSave(_ModelAdmin):
    """Replaces Django's "was changed/added successfully" by the message ``announce``d."""

    def announce(self, request: HttpRequest, message: str, level: int = messages.SUCCESS) -> None:
        """Say ``message`` after this save, instead of Django's own success message."""
        request.__dict__[_OUTCOME] = (message, level)

    def message_user(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        if request.__dict__.get(_QUIET):
            return
        super().message_user(request, *args, **kwargs)

    def response_add(
        self, request: HttpRequest, obj: BotConfig, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._instead(
            request,
            lambda: super(OneMessagePerSave, self).response_add(request, obj, post_url_continue),
        )

    def response_change(self, request: HttpRequest, obj: BotConfig) -> HttpResponse:
        return self._instead(
            request, lambda: super(OneMessagePerSave, self).response_change(request, obj)
        )

    def _instead(self, request: HttpRequest, respond: Callable[[], HttpResponse]) -> HttpResponse:
        outcome = request.__dict__.pop(_OUTCOME, None)
        if outcome is None:
            return respond()
        request.__dict__[_QUIET] = True
        try:
            response = respond()
        finally:
            del request.__dict__[_QUIET]
        self.message_user(request, *outcome)
        return response


def change_outcome(
    obj: BotConfig,
    saved: ConfigVersion | None,
    recorded: Sequence[BotConfigChange],
    diff_url: Callable[[int, int], str],
) -> tuple[str, int]:
    """The one message (and its level) for a change form's save."""
    fields = get_text_list(
        [str(capfirst(change.get_field_display())) for change in recorded],
        _("and"),
    )
    if saved is None or saved.unchanged:
        if not recorded:
            return _("Nothing changed, so nothing was saved."), messages.INFO
        message: Any = _(
            "Saved the new %(fields)s. The config is unchanged, so no new version was created."
        ) % {"fields": fields}
    else:
        merged_onto = saved.metadata.get("merged_onto")
        if isinstance(merged_onto, int):
            message = format_html(
                '{} <a href="{}" class="cv-merged-diff">{}</a>',
                _(
                    "Saved version %(n)s: your edits were merged onto version %(onto)s, saved "
                    "by %(who)s meanwhile."
                )
                % {"n": saved.version, "onto": merged_onto, "who": _author_of(obj, merged_onto)},
                diff_url(merged_onto, saved.version),
                _("Compare version %(a)s with version %(b)s")
                % {"a": merged_onto, "b": saved.version},
            )
        else:
            message = _("Saved version %(n)s.") % {"n": saved.version}
        if recorded:
            message = format_html(
                "{} {}", message, _("Also saved the new %(fields)s.") % {"fields": fields}
            )
    renamed = next((c for c in recorded if c.field == "slug"), None)
    if renamed is not None:
        message = format_html(
            "{} {}",
            message,
            _("API clients must now ask for “%(new)s”; “%(old)s” no longer finds this config.")
            % {"new": renamed.after, "old": renamed.before},
        )
    return message, messages.SUCCESS


def _author_of(obj: BotConfig, number: int) -> str:
    author = (
        BotConfigVersion.objects.filter(bot_config=obj, version=number)
        .values_list("created_by", flat=True)
        .first()
    )
    return author or _("someone")
