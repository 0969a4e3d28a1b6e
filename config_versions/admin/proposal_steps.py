"""The steps of the review page: approve or reject, apply, withdraw, and a new revision.

Each is a POST to its own URL carrying the revision the page showed, and one call of
``config_versions.review`` (the rules the API shares); a page that showed an older
revision takes no step. A refused step shows the review page again, as the proposal
stands now, with the refusal on top and what was typed kept; a step taken goes back to
the page with a message. PermissionDenied (403) when the user may not take it at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config_versions import review
from config_versions.admin import proposal_display as show
from config_versions.admin.views import VersionHistoryAdmin
from config_versions.core.errors import (
    ConfigArchivedError,
    InvalidConfigError,
    MergeConflictError,
    NoConfigError,
    ProposalError,
    ProposalNotFoundError,
)
from config_versions.core.merge import merge_preferring_ours
from config_versions.core.review import AppliedProposal
from config_versions.forms import pretty_json
from config_versions.models import BotConfig
from config_versions.proposal_forms import (
    ProposalStepForm,
    ReviewForm,
    ReviseForm,
    stale_revision,
)

REVISE_TEMPLATE = "config_versions/admin/proposal_revise.html"

# What a refused step may raise besides PermissionDenied (a 403): the manager's refusals.
REFUSALS = (ProposalError, InvalidConfigError, ValidationError, ConfigArchivedError, NoConfigError)


def _refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, InvalidConfigError):
        return "; ".join(f"{p}: {m}" if p else m for p, m in exc.errors)
    return str(exc)


class ProposalStepsAdmin(VersionHistoryAdmin):
    """The steps of ``ProposalsAdmin``'s review page (see the module)."""

    revise_template = REVISE_TEMPLATE

    if TYPE_CHECKING:

        def _proposal_page(
            self,
            request: HttpRequest,
            obj: BotConfig,
            number: int,
            *,
            error: Any = None,
            typed: dict[str, str] | None = None,
        ) -> HttpResponse: ...

        def proposal_url(self, obj: BotConfig, number: int) -> str: ...

        def _version_row_url(self, obj: BotConfig, version: int | None) -> str: ...

    # Steps: approve or reject, apply, withdraw -------------------------------------------

    def _step(
        self,
        request: HttpRequest,
        object_id: str,
        number: int,
        take: Callable[[BotConfig, dict[str, Any]], str],
        form_class: Callable[[Any], Any],
        typed_as: Callable[[dict[str, Any]], dict[str, str]],
        *,
        check_revision: bool = True,
    ) -> HttpResponse:
        """POST a step: check the form and that the page showed the current revision,
        ``take`` the step (it returns the success message), go back to the page.

        Reviews, applies and withdrawals pass the revision shown to the manager, which
        checks it under the config's lock; the comparison here answers a stale page
        before any other check (a review skips it: ``check_revision=False``).
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        form = form_class(request.POST)
        if not form.is_valid():
            problems = [e for field in form for e in field.errors] or [
                _("The request was malformed.")
            ]
            return self._proposal_page(request, obj, number, error=" ".join(problems))
        data = form.cleaned_data
        try:
            current = obj.version_manager.get_proposal(number).revision.number
        except ProposalNotFoundError as exc:
            raise Http404(str(exc)) from None
        if check_revision and data["revision"] != current:
            return self._proposal_page(
                request,
                obj,
                number,
                error=stale_revision(number, data["revision"], current),
                typed=typed_as(data),
            )
        try:
            done = take(obj, data)
        except ProposalNotFoundError as exc:
            raise Http404(str(exc)) from None
        except MergeConflictError as exc:
            return self._proposal_page(
                request, obj, number, error=_conflict_note(exc), typed=typed_as(data)
            )
        except REFUSALS as exc:
            return self._proposal_page(
                request,
                obj,
                number,
                error=_("Nothing was done: %(problem)s") % {"problem": _refusal_text(exc)},
                typed=typed_as(data),
            )
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(self.proposal_url(obj, number))

    def proposal_review_view(
        self, request: HttpRequest, object_id: str, number: int
    ) -> HttpResponse:
        def take(obj: BotConfig, data: dict[str, Any]) -> str:
            found = review.review(
                obj,
                request.user,
                number,
                data["decision"],
                comment=data["comment"],
                revision=data["revision"],
                manager=obj.get_version_manager(user=request.user),
            )
            return _reviewed_note(found, data["decision"], data["revision"])

        return self._step(
            request,
            object_id,
            number,
            take,
            ReviewForm,
            lambda d: {"comment": d["comment"]},
            check_revision=False,
        )

    def proposal_apply_view(
        self, request: HttpRequest, object_id: str, number: int
    ) -> HttpResponse:
        def take(obj: BotConfig, data: dict[str, Any]) -> str:
            with transaction.atomic(using=router.db_for_write(BotConfig, instance=obj)):
                applied = review.apply(
                    obj,
                    request.user,
                    number,
                    reason=data["reason"] or None,
                    revision=data["revision"],
                    manager=obj.get_version_manager(user=request.user),
                )
                if not applied.version.unchanged:
                    self.log_change(
                        request,
                        obj,
                        f"Applied proposal {number} as version {applied.version.version}.",
                    )
            return self._applied_note(obj, applied)

        return self._step(
            request,
            object_id,
            number,
            take,
            lambda data: ProposalStepForm(data, prefix="apply"),
            lambda d: {"apply_reason": d["reason"]},
        )

    def proposal_withdraw_view(
        self, request: HttpRequest, object_id: str, number: int
    ) -> HttpResponse:
        def take(obj: BotConfig, data: dict[str, Any]) -> str:
            review.withdraw(
                obj,
                request.user,
                number,
                reason=data["reason"],
                revision=data["revision"],
                manager=obj.get_version_manager(user=request.user),
            )
            return _("Proposal %(n)s was withdrawn.") % {"n": number}

        return self._step(
            request,
            object_id,
            number,
            take,
            lambda data: ProposalStepForm(data, prefix="withdraw"),
            lambda d: {"withdraw_reason": d["reason"]},
        )

    def _applied_note(self, obj: BotConfig, applied: AppliedProposal) -> str:
        number, version = applied.proposal.id, applied.version.version
        if applied.version.unchanged:
            note = _(
                "Applied proposal %(n)s: version %(v)s already has its config, so no version "
                "was written."
            )
        elif applied.merged_onto is not None:
            note = _(
                "Applied proposal %(n)s as version %(v)s: its edits were merged onto "
                "version %(onto)s."
            )
        else:
            note = _("Applied proposal %(n)s as version %(v)s.")
        text = note % {"n": number, "v": version, "onto": applied.merged_onto}
        if applied.move is not None:
            text += " " + _("%(label)s now points at version %(v)s.") % {
                "label": applied.move.label,
                "v": version,
            }
        return format_html(
            '{} <a href="{}">{}</a>', text, self._version_row_url(obj, version), _("History")
        )

    # A new revision ---------------------------------------------------------------------

    def proposal_revise_view(
        self, request: HttpRequest, object_id: str, number: int
    ) -> HttpResponse:
        """GET: the author's editor, holding the proposal's edits on the newest version;
        POST: ``review.revise`` (refusals shown on the form)."""
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        try:
            view = review.describe(obj, number)
        except ProposalNotFoundError as exc:
            raise Http404(str(exc)) from None
        proposal = view.proposal
        if not show.steps(request.user, proposal, archived=obj.is_archived).revise:
            self.message_user(
                request,
                _("Only the author of proposal %(n)s can revise it, while it is open.")
                % {"n": number},
                messages.WARNING,
            )
            return HttpResponseRedirect(self.proposal_url(obj, number))
        manager = obj.version_manager
        base = manager.get_version(proposal.base_version)
        newest = manager.get_version(view.current_version)
        assert base is not None
        assert newest is not None
        # The editor starts from the newest version with the proposal's edits on top;
        # where both changed a place, the proposal's value (the places are listed).
        kept = show.conflicts(view.preview.conflicts, base.config, proposal.config, newest.config)
        start = merge_preferring_ours(base.config, proposal.config, newest.config)
        form = ReviseForm(
            request.POST if request.method == "POST" else None,
            bot=obj,
            user=request.user,
            proposal=proposal,
            initial={
                "config": pretty_json(start),
                "base_version": newest.version,
                "revision": proposal.revision.number,
                "reason": proposal.reason,
            },
        )
        if request.method == "POST" and form.is_valid() and form.revised is not None:
            revised = form.revised
            self.message_user(
                request,
                _(
                    "Submitted revision %(r)s of proposal %(n)s, made from version %(v)s; "
                    "approvals of earlier revisions no longer count."
                )
                % {"r": revised.revision.number, "n": number, "v": revised.base_version},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(self.proposal_url(obj, number))
        context = self._context(
            request,
            obj,
            _("Revise proposal %(n)s: %(obj)s") % {"n": number, "obj": obj},
            proposal=proposal,
            form=form,
            media=self.media + form.media,
            newest=newest,
            moved=newest.version != base.version,
            kept=kept,
            proposals_url=self._url("proposals", obj),
            proposal_url=self.proposal_url(obj, number),
        )
        return TemplateResponse(request, self.revise_template, context)


def _reviewed_note(found: Any, decision: str, revision: int) -> str:
    if decision == "reject":
        return _("You rejected revision %(r)s of proposal %(n)s.") % {"r": revision, "n": found.id}
    note = _("You approved revision %(r)s of proposal %(n)s.") % {"r": revision, "n": found.id}
    if review.is_ready(found):
        return f"{note} {_('It has the approvals it needs and can be applied.')}"
    missing = review.policy().required_approvals - len(found.approvers)
    if missing > 0:
        more = ngettext(
            "It needs %(n)s more approval.", "It needs %(n)s more approvals.", missing
        ) % {"n": missing}
        return f"{note} {more}"
    return note


def _conflict_note(exc: MergeConflictError) -> Any:
    return format_html(
        '{} {}<ul class="cv-conflict-paths">{}</ul>',
        _("Nothing was applied."),
        ngettext(
            "Its edits conflict with version %(v)s at %(n)s place:",
            "Its edits conflict with version %(v)s at %(n)s places:",
            len(exc.conflicts),
        )
        % {"v": exc.actual_version, "n": len(exc.conflicts)},
        format_html_join("", "<li><code>{}</code></li>", ((p,) for p in exc.conflicts)),
    )
