"""Rollback in the admin: a confirmation page first, then the manager's rollback.

The rollback URL answers GET with a confirmation: the side-by-side diff from the
current config to the target, a reason (pre-filled "Rollback to version N") and the
version the page showed as current; its POST rolls back. The changelist action shows
one confirmation for every selected config, and only its confirmed POST writes. Every
write is ``manager.rollback``; whether a rollback changes anything is the manager's
answer (``unchanged``), never decided here. Both need ``rollback_botconfig``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from django import VERSION as DJANGO_VERSION
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from config_versions.admin.diff_html import render_rows
from config_versions.conf import settings
from config_versions.core.diff import diff_configs
from config_versions.core.errors import (
    ConfigArchivedError,
    InvalidConfigError,
    NoConfigError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.version import ConfigVersion
from config_versions.diff_display import side_by_side
from config_versions.forms import RollbackForm, reason_error
from config_versions.models import BotConfig, BotConfigVersion

if TYPE_CHECKING:
    from config_versions.admin.views import VersionHistoryAdmin

CONFIRMATION_TEMPLATE = "config_versions/admin/rollback_confirmation.html"
SELECTED_TEMPLATE = "config_versions/admin/rollback_selected_confirmation.html"
# The hidden input carrying, per selected config, the version the confirmation showed.
EXPECTED_FIELD = "cv_expected_%s"


def _author(request: HttpRequest) -> str | None:
    user = request.user
    return user.get_username() if user.is_authenticated else None


def _problems(exc: ValidationError | InvalidConfigError) -> str:
    if isinstance(exc, InvalidConfigError):
        return "; ".join(f"{p}: {m}" if p else m for p, m in exc.errors)
    return "; ".join(exc.messages)


# One config: the rollback URL ----------------------------------------------------------


def rollback_view(
    admin: VersionHistoryAdmin,
    request: HttpRequest,
    object_id: str,
    version: int,
    *,
    expand: frozenset[int] | Literal["all"],
    expand_query: str,
) -> HttpResponse:
    obj = admin.get_object(request, unquote(object_id))
    if obj is None:
        return admin._missing(request, object_id)
    # The page shows configs: seeing them is part of being allowed to roll back.
    if not admin.has_rollback_permission(request, obj) or not (
        admin.has_view_or_change_permission(request, obj)
    ):
        raise PermissionDenied
    back = HttpResponseRedirect(admin._url("history", obj))
    if request.method != "POST":
        form = RollbackForm(
            initial={
                "reason": _("Rollback to version %(n)s") % {"n": version},
                "expected_version": obj.current_version,
            },
            reason_help=_("Why you roll back; shown in the history."),
        )
        return _page(admin, request, obj, version, form, expand, expand_query) or back
    form = RollbackForm(request.POST, reason_help=_("Why you roll back; shown in the history."))
    if not form.is_valid():
        if "reason" in form.errors:  # the one field the person typed: show it again
            return _page(admin, request, obj, version, form, expand, expand_query) or back
        admin.message_user(request, _("The rollback request was malformed."), messages.ERROR)
        return back
    try:
        with transaction.atomic(using=router.db_for_write(BotConfig, instance=obj)):
            created = obj.get_version_manager(user=request.user).rollback(
                version,
                reason=form.cleaned_data["reason"] or None,
                created_by=_author(request),
                expected_version=form.cleaned_data["expected_version"],
            )
            if not created.unchanged:
                admin.log_change(request, obj, f"Rolled back to version {version}.")
    except VersionConflictError as exc:
        admin.message_user(request, _stale_note(admin, obj, exc), messages.WARNING)
        return back
    except ValidationError as exc:
        admin.message_user(
            request,
            _("Version %(n)s cannot become current again: %(problems)s")
            % {"n": version, "problems": _problems(exc)},
            messages.ERROR,
        )
        return back
    except InvalidConfigError as exc:
        if exc.field == "reason":
            form.add_error("reason", reason_error(exc))
            return _page(admin, request, obj, version, form, expand, expand_query) or back
        admin.message_user(
            request,
            _("Nothing was rolled back: %(problem)s") % {"problem": _problems(exc)},
            messages.ERROR,
        )
        return back
    except (VersionNotFoundError, ConfigArchivedError, NoConfigError) as exc:
        # Not found; archived or purged since the page was shown.
        admin.message_user(
            request, _("Nothing was rolled back: %(problem)s") % {"problem": exc}, messages.ERROR
        )
        return back
    if created.unchanged:
        if created.version == version:
            note = _("Version %(n)s is already the current version, so nothing was rolled back.")
        else:
            note = _(
                "Version %(n)s has the same config as the current version %(current)s, so "
                "nothing was rolled back."
            )
        admin.message_user(request, note % {"n": version, "current": created.version})
    else:
        admin.message_user(
            request,
            _("Rolled back to version %(to)s: its config is now version %(new)s.")
            % {"to": version, "new": created.version},
            messages.SUCCESS,
        )
    return back


def _stale_note(admin: VersionHistoryAdmin, obj: BotConfig, exc: VersionConflictError) -> Any:
    seen, actual = exc.expected_version, exc.actual_version
    note = _(
        "Version %(actual)s was saved after this page showed version %(seen)s, so "
        "nothing was rolled back. Review it and try again."
    ) % {"actual": actual, "seen": seen}
    if 1 <= seen < actual:
        return format_html(
            '{} <a href="{}">{}</a>',
            note,
            admin.diff_url(obj, seen, actual),
            _("Compare version %(a)s with version %(b)s") % {"a": seen, "b": actual},
        )
    return note


def version_card(version: ConfigVersion, *, is_current: bool) -> dict[str, Any]:
    """A version as the confirmation pages show it on a card: number, time, author, why."""
    return {
        "number": version.version,
        "created_at": datetime.fromtimestamp(version.timestamp, tz=UTC),
        "author": version.created_by or "",
        "reason": version.reason,
        "is_current": is_current,
    }


def _page(
    admin: VersionHistoryAdmin,
    request: HttpRequest,
    obj: BotConfig,
    version: int,
    form: RollbackForm,
    expand: frozenset[int] | Literal["all"],
    expand_query: str,
) -> HttpResponse | None:
    """The confirmation page; None (with a message) if there is nothing to confirm."""
    manager = obj.get_version_manager()
    target = manager.get_version(version)
    current = next(iter(manager.get_history(limit=1)), None)
    if target is None or current is None:
        admin.message_user(
            request,
            _("Nothing was rolled back: %(problem)s") % {"problem": VersionNotFoundError(version)},
            messages.ERROR,
        )
        return None
    display = side_by_side(
        current.config,
        target.config,
        diff_configs(current.config, target.config)["changes"],
        context=settings.ADMIN_DIFF_CONTEXT,
        expand=expand,
    )
    # What the manager would refuse, said before the click (it decides again on POST).
    # A target with the current config is written by no one, so refused by no rule.
    refusal = ""
    if not display.identical:
        try:
            manager.validate(target.config)
        except (ValidationError, InvalidConfigError) as exc:
            refusal = _("Version %(n)s cannot become current again: %(problems)s") % {
                "n": version,
                "problems": _problems(exc),
            }
    context = admin._context(
        request,
        obj,
        _("Roll back %(obj)s to version %(n)s?") % {"obj": obj, "n": version},
        form=form,
        # The version the page shows as current is the one the POST expects.
        expected_version=current.version,
        target=version_card(target, is_current=target.version == current.version),
        current=version_card(current, is_current=True),
        versions=[version_card(current, is_current=True), version_card(target, is_current=False)],
        display=display,
        rows_html=render_rows(display, expand_query),
        refusal=refusal,
    )
    return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


# Several configs: the changelist action ------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelectedRollback:
    """What the action would do to one selected config, as the confirmation shows it."""

    obj: BotConfig
    current: int
    # None: there is no previous version.
    target: int | None
    # The previous version's config is the current one (same content hash).
    same_config: bool

    @property
    def to_do(self) -> bool:
        return self.target is not None and not self.same_config

    @property
    def expected_field(self) -> str:
        return EXPECTED_FIELD % self.obj.pk


def plan(configs: list[BotConfig]) -> list[SelectedRollback]:
    """Each config and what rolling it back would do, from one query of content hashes."""
    wanted = Q()
    for obj in configs:
        if obj.current_version >= 2:
            wanted |= Q(bot_config=obj, version__in=[obj.current_version, obj.current_version - 1])
    hashes: dict[tuple[int, int], str] = {}
    if wanted:
        hashes = {
            (bot_id, number): content
            for bot_id, number, content in BotConfigVersion.objects.filter(wanted).values_list(
                "bot_config_id", "version", "content_hash"
            )
        }
    result = []
    for obj in configs:
        current = obj.current_version
        if current < 2:
            result.append(SelectedRollback(obj, current, None, same_config=False))
            continue
        same = hashes.get((obj.pk, current)) == hashes.get((obj.pk, current - 1))
        result.append(SelectedRollback(obj, current, current - 1, same_config=same))
    return result


def rollback_selected(
    admin: VersionHistoryAdmin, request: HttpRequest, queryset: QuerySet[BotConfig]
) -> HttpResponse | None:
    """The changelist action: a confirmation page, then (POST ``post``) the rollbacks."""
    configs = list(queryset)
    help_text = _("Why you roll back; shown in the history. Blank: “Rollback to version N”.")
    confirmed = bool(request.POST.get("post"))
    form = RollbackForm(request.POST if confirmed else None, reason_help=help_text)
    if confirmed and form.is_valid():
        _roll_back_each(admin, request, configs, form.cleaned_data["reason"])
        return None  # back to the changelist, as Django's delete_selected does
    request.current_app = admin.admin_site.name
    plans = plan(configs)
    context = {
        **admin.admin_site.each_context(request),
        "title": _("Roll back configs to their previous version?"),
        "subtitle": None,
        "opts": admin.opts,
        "plans": plans,
        "to_do": [p for p in plans if p.to_do],
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "rollback_to_previous",
        # Django 6 renders breadcrumbs as a list; 5.2 as a line of links.
        "breadcrumbs_as_list": DJANGO_VERSION >= (6, 0),
    }
    return TemplateResponse(request, SELECTED_TEMPLATE, context)


def _posted_version(request: HttpRequest, obj: BotConfig) -> int:
    """The current version the confirmation showed for ``obj`` (its own if none came)."""
    value = request.POST.get(EXPECTED_FIELD % obj.pk, "")
    return int(value) if value.isascii() and value.isdecimal() else obj.current_version


def _roll_back_each(
    admin: VersionHistoryAdmin, request: HttpRequest, configs: list[BotConfig], reason: str
) -> None:
    done: list[str] = []
    same: list[str] = []
    for obj in configs:
        current = _posted_version(request, obj)
        if current < 2:
            admin.message_user(
                request,
                _("“%(obj)s” has no previous version to roll back to.") % {"obj": obj},
                messages.WARNING,
            )
            continue
        try:
            created = obj.get_version_manager(user=request.user).rollback(
                current - 1,
                reason=reason or None,
                created_by=_author(request),
                expected_version=current,
            )
        except VersionConflictError:
            problem = _("it was saved again after the confirmation showed version %(n)s") % {
                "n": current
            }
        except (ValidationError, InvalidConfigError) as exc:
            problem = _problems(exc)
        except (ConfigArchivedError, NoConfigError) as exc:  # since the confirmation
            problem = str(exc)
        else:
            if created.unchanged:
                same.append(
                    _("“%(obj)s” (version %(to)s has the same config as version %(n)s)")
                    % {"obj": obj, "to": current - 1, "n": current}
                )
                continue
            admin.log_change(request, obj, f"Rolled back to version {current - 1}.")
            done.append(
                _("“%(obj)s” to version %(to)s (now version %(new)s)")
                % {"obj": obj, "to": current - 1, "new": created.version}
            )
            continue
        admin.message_user(
            request,
            _("“%(obj)s” was not rolled back: %(problem)s.") % {"obj": obj, "problem": problem},
            messages.ERROR,
        )
    if same:
        admin.message_user(
            request,
            _("Nothing to roll back for %(list)s.") % {"list": "; ".join(same)},
            messages.INFO,
        )
    if done:
        admin.message_user(
            request, _("Rolled back %(list)s.") % {"list": "; ".join(done)}, messages.SUCCESS
        )
