"""Labels in the admin: badges, "Promote to …" and "Propose for …" with their
confirmation, the label history.

Nothing here decides a move: ``releases.move_label`` (the rule the API shares) says who
may move which label, and the version manager's ``set_label`` whether it moves;
``review`` says who may propose. This module parses the request, shows what a move
would change and reports the outcome.

- The history marks each version with the labels pointing at it and offers, per row, a
  "Promote to …" link for each declared label the user may move, and a "Propose for …"
  link for each label that moves only by applying an approved proposal
  (``REVIEW["labels"]``) when the user may propose (none on an archived config, none
  for a label already there).
- The promote URL answers GET with a confirmation: the side-by-side diff from what the
  label serves now (or from nothing) to the target, a reason, and where the label
  pointed when the page was shown; its POST moves the label. For a review label its
  POST submits a proposal that edits nothing, made from the target (``review.submit``):
  applying it once approved moves the label there. Whoever may not propose is told the
  label moves only by applying an approved proposal.
- The label history lists the moves, newest first; the change form and the changelist
  show where each label points.

With no label declared (``CONFIG_VERSIONS["LABELS"]`` empty) none of it shows, and its
URLs answer 404.

Long because it is one mixin, ``LabelsAdmin``, holding the label parts of five pages
(history, change form, changelist, promote or propose, label history) that share its
URL helpers, summaries and badges; split, each part would reach back into the others'
helpers (proposing a release is the promote page's other POST, on the same diff).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config_versions import conf, review
from config_versions.admin.diff_html import render_rows
from config_versions.admin.rollback import version_card
from config_versions.admin.views import PAGE_VAR, VersionHistoryAdmin, _expanded, _kept
from config_versions.core.diff import diff_configs
from config_versions.core.errors import (
    ConfigArchivedError,
    InvalidConfigError,
    NoConfigError,
    ProposalError,
    ReviewRequiredError,
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.proposals import APPROVED, OPEN
from config_versions.core.version import ConfigVersion
from config_versions.diff_display import Cell, Fold, Row, SideBySide, json_lines, side_by_side
from config_versions.forms import PromoteForm, reason_error
from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigProposal
from config_versions.releases import (
    LabelState,
    check_declared,
    declared_labels,
    is_protected,
    label_states,
    labels_by_version,
    movable_labels,
    move_label,
    move_refusal,
)

PROMOTE_TEMPLATE = "config_versions/admin/promote_confirmation.html"
LABEL_HISTORY_TEMPLATE = "config_versions/admin/label_history.html"
LOCK_TEMPLATE = "config_versions/admin/includes/lock_icon.html"
BADGE_TEMPLATE = "config_versions/admin/includes/label_badge.html"
# The changelist's annotation of where the n-th declared label points (an index, not
# the name: a label may be named "a--b", which no SQL alias may hold).
LABEL_ALIAS = "cv_label_%d"


@dataclass(frozen=True, slots=True)
class LabelLink:
    """A label on a page: a badge (``url``: the label's history) on a version, or a
    "Promote to …" button (``url``: the confirmation) of a history row; "Propose for …"
    with ``propose`` (a label that moves only by applying an approved proposal)."""

    name: str
    protected: bool
    url: str
    propose: bool = False


@dataclass(frozen=True, slots=True)
class LabelSummary:
    """One declared label as the change form, history and label pages summarize it."""

    state: LabelState
    url: str  # the label's history
    version_url: str  # the history row of the version it points at ("" while not set)

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def where(self) -> str:
        """ "v7, 3 versions behind latest", "v9, latest" or "not set yet"."""
        version, behind = self.state.version, self.state.behind
        if version is None or behind is None:
            return _("not set yet")
        if behind <= 0:
            return _("v%(n)s, latest") % {"n": version}
        return ngettext(
            "v%(n)s, %(behind)s version behind latest",
            "v%(n)s, %(behind)s versions behind latest",
            behind,
        ) % {"n": version, "behind": behind}


@dataclass(frozen=True, slots=True)
class MoveRow:
    """One recorded move on the label history page."""

    sequence: int
    label: str
    protected: bool
    label_url: str
    from_version: int | None
    to_version: int
    created_at: datetime
    author: str
    reason: str
    compare_url: str


def from_nothing(config: dict[str, Any]) -> SideBySide:
    """The side-by-side display of a first move: nothing on the left, every line of
    ``config`` added on the right."""
    lines, _spans = json_lines(config)
    rows: list[Row | Fold] = [
        Row(None, Cell(number, "added", line)) for number, line in enumerate(lines, start=1)
    ]
    return SideBySide(rows, [], 1, 0, len(lines))


def _declared_or_404(name: str) -> str:
    """``name`` if it is a declared label that can move; else 404 (``latest`` too)."""
    try:
        return check_declared(name, movable=True)
    except UnknownLabelError as exc:
        raise Http404(str(exc)) from None


class LabelsAdmin(VersionHistoryAdmin):
    """The label parts of ``BotConfigAdmin``: badges, promote, label history, columns.

    Template names are attributes so that a site can point them at its own templates.
    """

    promote_template = PROMOTE_TEMPLATE
    label_history_template = LABEL_HISTORY_TEMPLATE

    # URLs -----------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/promote/<str:label>/<int:version>/",
                wrap(self.promote_view),
                name="{}_{}_promote".format(*info),
            ),
            path(
                "<path:object_id>/labels/",
                wrap(self.label_history_view),
                name="{}_{}_labels".format(*info),
            ),
            path(
                "<path:object_id>/labels/<str:label>/",
                wrap(self.label_history_view),
                name="{}_{}_label_history".format(*info),
            ),
            *super().get_urls(),
        ]

    def _version_url(self, obj: BotConfig, version: int) -> str:
        """The history row of ``version``, on the page of the history that holds it."""
        page = max(obj.current_version - version, 0) // conf.settings.ADMIN_HISTORY_PAGE_SIZE + 1
        query = {PAGE_VAR: page} if page > 1 else None
        return f"{self._url('history', obj, query=query)}#cv-v{version}"

    def _label_url(self, obj: BotConfig, name: str) -> str:
        return self._url("label_history", obj, name)

    def _badges(self, obj: BotConfig, names: list[str]) -> tuple[LabelLink, ...]:
        return tuple(
            LabelLink(name, is_protected(name), self._label_url(obj, name)) for name in names
        )

    def label_summaries(self, obj: BotConfig, states: list[LabelState]) -> list[LabelSummary]:
        return [
            LabelSummary(
                state,
                self._label_url(obj, state.name),
                "" if state.version is None else self._version_url(obj, state.version),
            )
            for state in states
        ]

    # The history: badges and "Promote to …" -------------------------------------------

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        data = response.context_data if isinstance(response, TemplateResponse) else None
        if data is None or not declared_labels():
            return response
        obj: BotConfig = data["object"]
        states = label_states(obj)  # one query
        pointing = {state.name: state.version for state in states}
        at = labels_by_version(states)
        # An archived config is read-only: its labels stay where they are until restored.
        promotable = [] if obj.is_archived else movable_labels(request.user)
        proposable = self._proposable(request, obj)
        offered = [name for name in declared_labels() if name in promotable or name in proposable]
        promote_url = partial(self._url, "promote", obj)
        data["rows"] = [
            replace(
                row,
                labels=self._badges(obj, at.get(row.version, [])),
                promotions=tuple(
                    LabelLink(
                        name,
                        is_protected(name),
                        promote_url(name, row.version),
                        propose=name in proposable,
                    )
                    for name in offered
                    if pointing[name] != row.version
                ),
            )
            for row in data["rows"]
        ]
        data.update(
            label_summaries=self.label_summaries(obj, states),
            label_history_url=self._url("labels", obj),
        )
        return response

    def _proposable(self, request: HttpRequest, obj: BotConfig) -> list[str]:
        """The labels that move only by applying an approved proposal, if the user may
        propose their release here (not on an archived config)."""
        if obj.is_archived or review.propose_refusal(request.user) is not None:
            return []
        return [name for name in declared_labels() if review.policy().requires_review(name)]

    # The change form: where each label points ------------------------------------------

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: BotConfig | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None and declared_labels():
            context.update(
                label_summaries=self.label_summaries(obj, label_states(obj)),
                label_history_url=self._url("labels", obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # The changelist: one column per label, from one query ---------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[BotConfig]:
        queryset = super().get_queryset(request)
        names = declared_labels()
        if not names:
            return queryset
        # Where each label points: its last move, read by the (config, label, sequence)
        # index in the changelist's own query.
        return queryset.annotate(
            **{
                LABEL_ALIAS % index: Subquery(
                    BotConfigLabelMove.objects.filter(bot_config=OuterRef("pk"), label=name)
                    .order_by("-sequence")
                    .values("to_version")[:1]
                )
                for index, name in enumerate(names)
            }
        )

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = list(super().get_list_display(request))
        names = declared_labels()
        if not names:
            return shown
        lock = render_to_string(LOCK_TEMPLATE)
        columns = [self._label_column(index, name, lock) for index, name in enumerate(names)]
        at = shown.index("version_link") + 1 if "version_link" in shown else len(shown)
        return [*shown[:at], *columns, *shown[at:]]

    def _label_column(self, index: int, name: str, lock: str) -> Callable[[BotConfig], str]:
        alias = LABEL_ALIAS % index

        def column(obj: BotConfig) -> str:
            version = getattr(obj, alias, None)
            if version is None:
                return format_html('<span class="cv-label-unset" title="{}">—</span>', _("not set"))
            behind = obj.current_version - version
            note = (
                format_html(
                    ' <span class="cv-behind">{}</span>',
                    ngettext("%(n)s behind", "%(n)s behind", behind) % {"n": behind},
                )
                if behind > 0
                else ""
            )
            return format_html(
                '<a href="{}" class="cv-label-pointer" data-label="{}">v{}</a>{}',
                self._version_url(obj, version),
                name,
                version,
                note,
            )

        column.__name__ = alias
        protected = is_protected(name)
        column.short_description = (  # type: ignore[attr-defined]
            format_html(
                '<span class="cv-label-header">{} {}</span>', capfirst(name), SafeString(lock)
            )
            if protected
            else name
        )
        column.admin_order_field = alias  # type: ignore[attr-defined]
        return column

    # Promote to …: the confirmation and the move ----------------------------------------

    def promote_view(
        self, request: HttpRequest, object_id: str, label: str, version: int
    ) -> HttpResponse:
        """GET: the confirmation page (diff, reason); POST: ``releases.move_label``, or
        for a label that moves only by applying a proposal, ``review.submit``."""
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        name = _declared_or_404(label)
        reviewed = review.policy().requires_review(name)
        proposing = reviewed and review.propose_refusal(request.user) is None
        if not proposing:
            refusal = move_refusal(request.user, name)
            if refusal is not None:
                raise PermissionDenied(refusal)
        if obj.is_archived:
            return self._archived_note(request, obj)
        if reviewed and not proposing:
            return self._review_note(request, obj, ReviewRequiredError(name))
        manager = obj.get_version_manager(user=request.user)
        target = manager.get_version(version) if version >= 1 else None
        if target is None:
            raise Http404(str(VersionNotFoundError(version)))
        expand = _expanded(request.GET.getlist("expand"))
        if proposing:
            return self._propose(request, obj, manager, name, target, expand)
        help_text = _("Why; shown in the label history.")

        def page(form: PromoteForm) -> HttpResponse:
            return self._promote_page(request, obj, manager, name, target, form, expand)

        if request.method != "POST":
            default = _("Promote version %(n)s to %(label)s") % {"n": version, "label": name}
            return page(PromoteForm(initial={"reason": default}, reason_help=help_text))
        form = PromoteForm(request.POST, reason_help=help_text)
        back = HttpResponseRedirect(self._url("history", obj))
        if not form.is_valid():
            if "reason" in form.errors:  # the one field the person typed: show it again
                return page(form)
            self.message_user(request, _("The promote request was malformed."), messages.ERROR)
            return back
        try:
            with transaction.atomic(using=router.db_for_write(BotConfig, instance=obj)):
                move = move_label(
                    obj,
                    request.user,
                    name,
                    version,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["expected_version"],
                    manager=manager,
                )
                if not move.unchanged:
                    was = f"version {move.from_version}" if move.from_version else "not set"
                    self.log_change(
                        request, obj, f"Moved label {name} to version {version} (was {was})."
                    )
        except VersionConflictError as exc:
            seen, actual = exc.expected_version, exc.actual_version
            form.add_error(None, _moved_meanwhile(name, version, seen, actual))
            return page(form)
        except InvalidConfigError as exc:
            if exc.field == "reason":
                form.add_error("reason", reason_error(exc))
                return page(form)
            self._nothing_moved(request, exc)
            return back
        except ConfigArchivedError:  # since the page was shown
            return self._archived_note(request, obj)
        except ReviewRequiredError as exc:  # REVIEW["labels"] changed since the page
            return self._review_note(request, obj, exc)
        except (VersionNotFoundError, NoConfigError, UnknownLabelError) as exc:
            self._nothing_moved(request, exc)
            return back
        if move.unchanged:
            note = _("%(label)s already points at version %(n)s, so nothing was moved.")
            self.message_user(request, note % {"label": name, "n": version}, messages.INFO)
        else:
            if move.from_version:
                note = _("%(label)s now points at version %(n)s (it was at version %(old)s).")
            else:
                note = _("%(label)s now points at version %(n)s (it was not set).")
            self.message_user(
                request,
                note % {"label": name, "n": version, "old": move.from_version},
                messages.SUCCESS,
            )
        return back

    def _propose(
        self,
        request: HttpRequest,
        obj: BotConfig,
        manager: ConfigVersionManager,
        name: str,
        target: ConfigVersion,
        expand: Any,
    ) -> HttpResponse:
        """Propose the release of ``target`` for review label ``name``: GET the same
        confirmation as a move; POST ``review.submit`` of a proposal that edits nothing,
        made from ``target`` (applying it moves the label there), then its review page."""
        version = target.version
        values = {"n": version, "label": name}
        help_text = _("Why; reviewers read it first, and the proposal keeps it.")

        def page(form: PromoteForm) -> HttpResponse:
            return self._promote_page(
                request, obj, manager, name, target, form, expand, proposing=True
            )

        if request.method != "POST":
            default = _("Release version %(n)s to %(label)s") % values
            return page(PromoteForm(initial={"reason": default}, reason_help=help_text))
        form = PromoteForm(request.POST, reason_help=help_text)
        back = HttpResponseRedirect(self._url("history", obj))
        if not form.is_valid():
            if "reason" in form.errors:
                return page(form)
            self.message_user(request, _("The propose request was malformed."), messages.ERROR)
            return back
        pending = self._pending_release(obj, manager, name, target)
        if pending is not None:  # proposed meanwhile (or the form was posted twice)
            note = _(
                "Proposal %(p)s already proposes version %(n)s for %(label)s: nothing new "
                "was proposed."
            )
            self.message_user(request, note % {**values, "p": pending}, messages.INFO)
            return HttpResponseRedirect(self._url("proposal", obj, pending))
        seen, actual = form.cleaned_data["expected_version"], manager.get_label(name)
        if actual == version and seen in (None, version):
            note = _("%(label)s already points at version %(n)s, so nothing was proposed.")
            self.message_user(request, note % values, messages.INFO)
            return back
        if seen is not None and actual is not None and seen != actual:  # moved since shown
            form.add_error(None, _moved_meanwhile(name, version, seen, actual, proposing=True))
            return page(form)
        try:
            proposal = review.submit(
                obj,
                request.user,
                target.config,
                version,
                reason=form.cleaned_data["reason"],
                label=name,
                manager=manager,
            )
        except InvalidConfigError as exc:
            if exc.field == "reason":
                form.add_error("reason", reason_error(exc))
                return page(form)
            self._nothing_proposed(request, exc)
            return back
        except ConfigArchivedError:  # since the page was shown
            return self._archived_note(request, obj)
        except (
            PermissionDenied,  # since the page was shown
            ValidationError,  # the version's config fails a rule added since
            VersionNotFoundError,
            UnknownLabelError,  # no longer declared
            NoConfigError,
            ProposalError,
        ) as exc:
            self._nothing_proposed(request, exc)
            return back
        self.log_change(
            request, obj, f"Proposed version {version} for label {name}: proposal {proposal.id}."
        )
        note = _(
            "Proposed version %(n)s for %(label)s as proposal %(p)s. %(label)s moves there "
            "once it is approved and applied."
        )
        self.message_user(request, note % {**values, "p": proposal.id}, messages.SUCCESS)
        return HttpResponseRedirect(self._url("proposal", obj, proposal.id))

    def _pending_release(
        self, obj: BotConfig, manager: ConfigVersionManager, name: str, target: ConfigVersion
    ) -> int | None:
        """An open or approved proposal releasing ``target`` to ``name`` as it is."""
        numbers = BotConfigProposal.objects.filter(
            bot_config=obj, label=name, base_version=target.version, status__in=(OPEN, APPROVED)
        ).values_list("number", flat=True)
        for number in sorted(numbers):
            if manager.get_proposal(number).config == target.config:
                return number
        return None

    def _nothing_proposed(self, request: HttpRequest, problem: Exception) -> None:
        if isinstance(problem, ValidationError):
            problem = ValueError(" ".join(problem.messages))
        self.message_user(
            request, _("Nothing was proposed: %(problem)s") % {"problem": problem}, messages.ERROR
        )

    def _nothing_moved(self, request: HttpRequest, problem: Exception) -> None:
        self.message_user(
            request, _("Nothing was moved: %(problem)s") % {"problem": problem}, messages.ERROR
        )

    def _review_note(
        self, request: HttpRequest, obj: BotConfig, exc: ReviewRequiredError
    ) -> HttpResponse:
        """A label that moves only by applying an approved proposal: say so, move nothing."""
        self.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Nothing was moved: %(label)s moves only by applying an approved proposal.")
                % {"label": exc.label},
                self._url("proposals", obj),
                _("Proposals of this config"),
            ),
            messages.WARNING,
        )
        return HttpResponseRedirect(self._url("history", obj))

    def _archived_note(self, request: HttpRequest, obj: BotConfig) -> HttpResponse:
        self.message_user(
            request,
            _("“%(obj)s” is archived, so its labels stay where they are: restore it to move them.")
            % {"obj": obj},
            messages.WARNING,
        )
        return HttpResponseRedirect(self._url("history", obj))

    def _promote_page(
        self,
        request: HttpRequest,
        obj: BotConfig,
        manager: ConfigVersionManager,
        name: str,
        target: ConfigVersion,
        form: PromoteForm,
        expand: Any,
        *,
        proposing: bool = False,
    ) -> HttpResponse:
        """The confirmation of a move, or with ``proposing`` of its proposal."""
        states = label_states(obj, manager)
        (state,) = [s for s in states if s.name == name]
        now = manager.get_version(state.version) if state.version is not None else None
        if now is None:
            display = from_nothing(target.config)
        else:
            display = side_by_side(
                now.config,
                target.config,
                diff_configs(now.config, target.config)["changes"],
                context=conf.settings.ADMIN_DIFF_CONTEXT,
                expand=expand,
            )
        at = labels_by_version(states)
        current = obj.current_version
        target_card = version_card(target, is_current=target.version == current)
        now_card = None if now is None else version_card(now, is_current=now.version == current)
        values = {"obj": obj, "n": target.version, "label": name}
        pending = None
        if proposing and state.version != target.version:
            pending = self._pending_release(obj, manager, name, target)
        context = self._context(
            request,
            obj,
            _("Propose version %(n)s for %(label)s?") % values
            if proposing
            else _("Promote %(obj)s version %(n)s to %(label)s?") % values,
            form=form,
            proposing=proposing,
            pending=pending,
            pending_url="" if pending is None else self._url("proposal", obj, pending),
            label=self.label_summaries(obj, [state])[0],
            label_badge=render_to_string(
                BADGE_TEMPLATE, {"name": name, "protected": state.protected, "url": ""}
            ),
            # Where the label points as this page shows it: the POST expects it there.
            expected_version=state.version or 0,
            already=state.version == target.version,
            target=target_card,
            now=now_card,
            versions=[now_card or {"number": None}, target_card],
            now_labels=self._badges(obj, at.get(now.version, []) if now is not None else []),
            target_labels=self._badges(obj, at.get(target.version, [])),
            target_behind=current - target.version,
            display=display,
            rows_html=render_rows(display, urlencode(_kept(expand), doseq=True)),
        )
        return TemplateResponse(request, self.promote_template, context)

    # The label history -----------------------------------------------------------------

    def label_history_view(
        self, request: HttpRequest, object_id: str, label: str | None = None
    ) -> HttpResponse:
        """The moves of every label of a config (or of one), newest first, paginated."""
        if not declared_labels():
            raise Http404(_("No labels are declared."))
        obj = self._get_viewable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        name = None if label is None else _declared_or_404(label)
        moves = (
            BotConfigLabelMove.objects.filter(bot_config=obj)
            .select_related("created_by_user")
            .order_by("-sequence")
        )
        if name is not None:
            moves = moves.filter(label=name)
        paginator = Paginator(moves, conf.settings.ADMIN_HISTORY_PAGE_SIZE)
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        states = label_states(obj)
        if name is None:
            title = _("Label history: %s") % obj
        else:
            title = _("Label history of %(label)s: %(obj)s") % {"label": name, "obj": obj}
        context = self._context(
            request,
            obj,
            title,
            rows=[self._move_row(obj, move) for move in page.object_list],
            page=page,
            page_var=PAGE_VAR,
            page_range=list(paginator.get_elided_page_range(page.number)),
            ellipsis=Paginator.ELLIPSIS,
            label=name,
            label_summaries=self.label_summaries(obj, states),
            label_history_url=self._url("labels", obj),
        )
        return TemplateResponse(request, self.label_history_template, context)

    def _move_row(self, obj: BotConfig, move: BotConfigLabelMove) -> MoveRow:
        user = move.created_by_user
        return MoveRow(
            sequence=move.sequence,
            label=move.label,
            protected=is_protected(move.label),
            # A label no longer declared has no page of its own.
            label_url=self._label_url(obj, move.label) if move.label in declared_labels() else "",
            from_version=move.from_version,
            to_version=move.to_version,
            created_at=move.created_at,
            author=move.created_by or (user.get_username() if user is not None else ""),
            reason=move.reason,
            compare_url=self.diff_url(obj, move.from_version, move.to_version)
            if move.from_version
            else "",
        )


def _moved_meanwhile(
    name: str, version: int, seen: int | None, actual: int | None, *, proposing: bool = False
) -> str:
    """Why the confirmation is shown again: ``name`` moved from ``seen`` (0 or None: not
    set) to ``actual`` after the page was shown."""
    if actual == version:
        return _(
            "%(label)s was moved to version %(n)s by someone else after this page was shown: "
            "there is nothing left to move."
        ) % {"label": name, "n": version}
    if seen and proposing:
        note = _(
            "%(label)s was moved to version %(actual)s after this page showed it at version "
            "%(seen)s, so nothing was proposed."
        )
    elif seen:
        note = _(
            "%(label)s was moved to version %(actual)s after this page showed it at version "
            "%(seen)s, so nothing was moved."
        )
    elif proposing:
        note = _(
            "%(label)s was set to version %(actual)s after this page showed it not set, so "
            "nothing was proposed."
        )
    else:
        note = _(
            "%(label)s was set to version %(actual)s after this page showed it not set, so "
            "nothing was moved."
        )
    if proposing:
        again = _(
            "The comparison below now starts from version %(actual)s: review it and confirm "
            "again to propose version %(n)s."
        )
    else:
        again = _(
            "The comparison below now starts from version %(actual)s: review it and confirm "
            "again to move it to version %(n)s."
        )
    values = {"label": name, "actual": actual, "seen": seen, "n": version}
    return f"{note % values} {again % values}"
