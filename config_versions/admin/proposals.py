"""Proposals in the admin: a config's proposals, the review page and its steps.

Nothing here decides a step: ``config_versions.review`` (the rules the API shares) says
who may propose, review, apply and withdraw, and the version manager whether the step
is taken. This module lists proposals, lays out the review page (both diffs, the merge
preview, revisions and reviews; see ``proposal_display``) and turns each POST into one
call of ``review``, reporting its outcome or its refusal.

- ``<config>/proposals/``: the config's proposals, those still awaiting a decision
  first, filtered by status, one page of rows from one query.
- ``<config>/proposals/<n>/``: the review page. Its forms post to ``review/``,
  ``apply/`` and ``withdraw/``; the author's editor for a new revision is
  ``revise/`` (those steps: ``admin/proposal_steps.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from config_versions import conf, review
from config_versions.admin import proposal_display as show
from config_versions.admin.proposal_steps import ProposalStepsAdmin
from config_versions.admin.views import PAGE_VAR
from config_versions.core.errors import ProposalNotFoundError
from config_versions.core.proposals import ACTIVE, STATUSES
from config_versions.models import BotConfig, BotConfigProposal
from config_versions.proposal_forms import ProposalStepForm, ReviewForm
from config_versions.releases import is_protected

PROPOSALS_TEMPLATE = "config_versions/admin/proposals.html"
PROPOSAL_TEMPLATE = "config_versions/admin/proposal.html"
# The annotation of a config's proposals awaiting a decision (see get_queryset).
WAITING = "cv_waiting_proposals"


@dataclass(frozen=True, slots=True)
class ListRow:
    """One proposal on the list of a config's proposals."""

    number: int
    url: str
    status: str
    reason: str
    author: str
    label: str
    protected: bool
    base_version: int
    revision: int
    approvals: int
    applied_version: int | None
    updated_at: datetime


def waiting_first(rows: QuerySet[BotConfigProposal]) -> QuerySet[BotConfigProposal]:
    """``rows`` in the order of ``review.site_proposals``: awaiting a decision first."""
    return rows.order_by(*review.site_proposals().query.order_by)


class ProposalsAdmin(ProposalStepsAdmin):
    """The proposal pages of ``BotConfigAdmin``. Template names are attributes so that
    a site can point them at its own templates."""

    proposals_template = PROPOSALS_TEMPLATE
    proposal_template = PROPOSAL_TEMPLATE

    # URLs -----------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        one = "<path:object_id>/proposals/<int:number>/"
        return [
            path(
                "<path:object_id>/proposals/",
                wrap(self.proposals_view),
                name="{}_{}_proposals".format(*info),
            ),
            path(one, wrap(self.proposal_view), name="{}_{}_proposal".format(*info)),
            path(
                f"{one}review/",
                wrap(self.proposal_review_view),
                name="{}_{}_proposal_review".format(*info),
            ),
            path(
                f"{one}apply/",
                wrap(self.proposal_apply_view),
                name="{}_{}_proposal_apply".format(*info),
            ),
            path(
                f"{one}withdraw/",
                wrap(self.proposal_withdraw_view),
                name="{}_{}_proposal_withdraw".format(*info),
            ),
            path(
                f"{one}revise/",
                wrap(self.proposal_revise_view),
                name="{}_{}_proposal_revise".format(*info),
            ),
            *super().get_urls(),
        ]

    def proposal_url(self, obj: BotConfig, number: int) -> str:
        return self._url("proposal", obj, number)

    # The link from the change form and the history -------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[BotConfig]:
        # How many proposals await a decision, counted in the config's own query: the
        # change form and the history show it at no extra query.
        waiting = (
            BotConfigProposal.objects.filter(bot_config=OuterRef("pk"), status__in=ACTIVE)
            .order_by()
            .values("bot_config")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(**{WAITING: Subquery(waiting)})

    def proposal_links(self, obj: BotConfig) -> dict[str, Any]:
        """The proposals page and how many of the config's proposals await a decision."""
        waiting = getattr(obj, WAITING, None)
        if waiting is None and not hasattr(obj, WAITING):  # not read by get_queryset
            waiting = BotConfigProposal.objects.filter(bot_config=obj, status__in=ACTIVE).count()
        return {"proposals_url": self._url("proposals", obj), "waiting_proposals": waiting or 0}

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: BotConfig | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None:
            context.update(self.proposal_links(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        data = response.context_data if isinstance(response, TemplateResponse) else None
        if data is not None and "object" in data:
            data.update(self.proposal_links(data["object"]))
        return response

    # The list of a config's proposals ---------------------------------------------------

    def proposals_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        status = request.GET.get("status")
        if status not in STATUSES:
            status = None
        rows = BotConfigProposal.objects.filter(bot_config=obj)
        counts = dict(
            rows.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        listed = waiting_first(rows.filter(status=status) if status else rows)
        paginator = Paginator(listed, conf.settings.ADMIN_HISTORY_PAGE_SIZE)
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        context = self._context(
            request,
            obj,
            _("Proposals: %s") % obj,
            rows=[self._list_row(obj, row) for row in page.object_list],
            page=page,
            page_var=PAGE_VAR,
            page_range=list(paginator.get_elided_page_range(page.number)),
            ellipsis=Paginator.ELLIPSIS,
            status=status,
            filters=[(s, counts.get(s, 0)) for s in STATUSES],
            total=sum(counts.values()),
            proposals_url=self._url("proposals", obj),
        )
        return TemplateResponse(request, self.proposals_template, context)

    def _list_row(self, obj: BotConfig, row: BotConfigProposal) -> ListRow:
        return ListRow(
            number=row.number,
            url=self.proposal_url(obj, row.number),
            status=row.status,
            reason=row.reason,
            author=row.author or "",
            label=row.label or "",
            protected=row.label is not None and is_protected(row.label),
            base_version=row.base_version,
            revision=row.revision,
            approvals=row.approvals,
            applied_version=row.applied_version,
            updated_at=row.updated_at,
        )

    # The review page --------------------------------------------------------------------

    def proposal_view(self, request: HttpRequest, object_id: str, number: int) -> HttpResponse:
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        return self._proposal_page(request, obj, number)

    def _proposal_page(
        self,
        request: HttpRequest,
        obj: BotConfig,
        number: int,
        *,
        error: Any = None,
        typed: dict[str, str] | None = None,
    ) -> HttpResponse:
        """The page as the proposal stands now; after a refused step, ``error`` on top
        and what was ``typed`` in the step's form kept (its revision is the current one)."""
        try:
            view = review.describe(obj, number)
        except ProposalNotFoundError as exc:
            raise Http404(str(exc)) from None
        proposal = view.proposal
        base, newest = view.base, view.newest
        expand = {k: show.unfolded(request.GET.getlist(show.expand_param(k))) for k in show.DIFFS}
        heading = _("Proposal %(n)s, revision %(r)s") % {
            "n": proposal.id,
            "r": proposal.revision.number,
        }
        diffs = [
            show.build_diff("base", base.config, proposal.config, base.version, heading, expand)
        ]
        if newest.version != base.version:
            diffs.append(
                show.build_diff(
                    "current", newest.config, proposal.config, newest.version, heading, expand
                )
            )
        preview = view.preview
        merged = label_diff = None
        # A proposal that edits nothing releases its base version as it is.
        release = preview.onto_version == base.version and newest.version != base.version
        if view.diff_from_label is not None:
            served = view.served
            if served is not None and preview.merged is not None and not release:
                label_diff = show.build_diff(
                    "label",
                    served.config,
                    preview.merged,
                    served.version,
                    _("What %(label)s would serve") % {"label": proposal.label},
                    expand,
                )
        if (
            proposal.is_active
            and preview.merged is not None
            and newest.version != base.version
            and not release
        ):
            merged = show.build_diff(
                "merged",
                newest.config,
                preview.merged,
                newest.version,
                _("What applying writes"),
                expand,
            )
        typed = typed or {}
        revision = proposal.revision.number
        steps = show.steps(request.user, proposal, archived=obj.is_archived)
        context = self._context(
            request,
            obj,
            _("Proposal %(n)s: %(obj)s") % {"n": proposal.id, "obj": obj},
            proposal=proposal,
            view=view,
            error=error,
            base=base,
            newest=newest,
            next_version=newest.version + 1,
            behind=newest.version - base.version,
            diffs=diffs,
            merged=merged,
            release=release,
            label_diff=label_diff if proposal.is_active else None,
            label_version=view.label_version,
            conflicts=show.conflicts(
                preview.conflicts, base.config, proposal.config, newest.config
            ),
            revisions=show.revision_rows(proposal),
            reviews=show.review_rows(proposal),
            steps=steps,
            policy=review.policy(),
            label_protected=proposal.label is not None and is_protected(proposal.label),
            review_form=ReviewForm(
                initial={"comment": typed.get("comment", ""), "revision": revision}
            ),
            apply_form=ProposalStepForm(
                initial={"reason": typed.get("apply_reason", ""), "revision": revision},
                reason_help=_("Why; shown in the history. Blank: the proposal's reason."),
                prefix="apply",
            ),
            withdraw_form=ProposalStepForm(
                initial={"reason": typed.get("withdraw_reason", ""), "revision": revision},
                reason_help=_("Why it is withdrawn; kept with the proposal."),
                prefix="withdraw",
            ),
            proposals_url=self._url("proposals", obj),
            review_url=self._url("proposal_review", obj, number),
            apply_url=self._url("proposal_apply", obj, number),
            withdraw_url=self._url("proposal_withdraw", obj, number),
            revise_url=self._url("proposal_revise", obj, number),
            applied_url=self._version_row_url(obj, proposal.applied_version),
            base_url=self._version_row_url(obj, base.version),
        )
        return TemplateResponse(request, self.proposal_template, context)

    def _version_row_url(self, obj: BotConfig, version: int | None) -> str:
        """The history row of ``version``, on the history page that holds it."""
        if version is None:
            return ""
        size = conf.settings.ADMIN_HISTORY_PAGE_SIZE
        page = max(obj.current_version - version, 0) // size + 1
        query = {PAGE_VAR: page} if page > 1 else None
        return f"{self._url('history', obj, query=query)}#cv-v{version}"
