"""Review: who may propose, review, apply and withdraw, and what a proposal looks like now.

The admin and the API both go through these functions, so they give the same answer to
the same request. The rules of a proposal itself (its statuses, self-approval, stale
approvals, the three-way merge on apply, the label moved in the same transaction) live
in the version manager (``core.review.ReviewRules``); this module adds the site's side:
the ``REVIEW`` setting and the permissions.

Permissions: ``propose_botconfig`` submits proposals (the change permission does too),
``review_botconfig`` approves or rejects them, applying needs ``change_botconfig`` and,
for a target label, what moving that label needs (``releases.move_refusal``). With
``REVIEW["all_writes"]``, plain writes need ``bypass_review_botconfig``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import models

from config_versions import releases
from config_versions.conf import settings
from config_versions.core.diff import diff_configs
from config_versions.core.errors import ProposalStateError, VersionNotFoundError
from config_versions.core.merge import MergePreview
from config_versions.core.proposals import ACTIVE, APPROVED, Proposal, ReviewPolicy
from config_versions.models import BotConfigProposal
from config_versions.releases import User

if TYPE_CHECKING:
    from config_versions.core.manager import ConfigVersionManager
    from config_versions.core.review import AppliedProposal
    from config_versions.core.version import ConfigVersion
    from config_versions.models import BotConfig

PROPOSE = "config_versions.propose_botconfig"
REVIEW = "config_versions.review_botconfig"
BYPASS = "config_versions.bypass_review_botconfig"
CHANGE = "config_versions.change_botconfig"
VIEW = "config_versions.view_botconfig"


def policy() -> ReviewPolicy:
    """The site's review rules (``CONFIG_VERSIONS["REVIEW"]``)."""
    return settings.REVIEW


def _author(user: User) -> str | None:
    return user.get_username() if user.is_authenticated else None


# Who may do what ----------------------------------------------------------------


def propose_refusal(user: User) -> str | None:
    """Why ``user`` may not submit or revise proposals; None if they may."""
    if user.is_authenticated and (user.has_perm(PROPOSE) or user.has_perm(CHANGE)):
        return None
    return "You may not propose changes (permission propose_botconfig)."


def review_refusal(user: User) -> str | None:
    """Why ``user`` may not approve or reject proposals; None if they may. (Whether
    they may review this one, their own, is the manager's rule.)"""
    if user.is_authenticated and user.has_perm(REVIEW):
        return None
    return "You may not review proposals (permission review_botconfig)."


def apply_refusal(user: User, proposal: Proposal) -> str | None:
    """Why ``user`` may not apply ``proposal``; None if they may. Whether it has enough
    approvals is the manager's rule, checked under the config's lock."""
    if not user.is_authenticated or not user.has_perm(CHANGE):
        return "Applying a proposal needs the permission to change bot configs."
    if proposal.label is not None:
        refusal = releases.move_refusal(user, proposal.label)
        if refusal is not None:
            return f"Proposal {proposal.id} moves label {proposal.label!r}: {refusal}"
    return None


def withdraw_refusal(user: User, proposal: Proposal) -> str | None:
    """Its author, or someone who may change configs, may withdraw a proposal."""
    if not user.is_authenticated:
        return "You may not withdraw proposals."
    if proposal.author == _author(user) or user.has_perm(CHANGE):
        return None
    return f"Only the author of proposal {proposal.id} or an editor may withdraw it."


def write_refusal(user: User) -> str | None:
    """Why ``user`` may not write a version directly (save, rollback); None if they may.
    Only with ``REVIEW["all_writes"]``: then direct writes need
    ``bypass_review_botconfig``, and everyone else proposes."""
    if not policy().all_writes or user.has_perm(BYPASS):
        return None
    return (
        "Changes to bot configs go through review here: propose the change "
        "(permission bypass_review_botconfig writes directly)."
    )


def may_only_propose(user: User) -> bool:
    """Whether ``user``'s edits become proposals rather than versions: they may propose
    but not write directly (no change permission, or review of all writes)."""
    if propose_refusal(user) is not None:
        return False
    return not user.has_perm(CHANGE) or write_refusal(user) is not None


# Steps ---------------------------------------------------------------------------


def _manager(bot: BotConfig, user: User, manager: ConfigVersionManager | None) -> Any:
    return manager if manager is not None else bot.get_version_manager(user=user)  # type: ignore[arg-type]


def submit(
    bot: BotConfig,
    user: User,
    config: dict[str, Any],
    base_version: int,
    *,
    reason: str = "",
    label: str | None = None,
    manager: ConfigVersionManager | None = None,
) -> Proposal:
    """Submit a proposal on behalf of ``user``; PermissionDenied (nothing written)
    when they may not, and what ``ConfigVersionManager.propose`` raises otherwise."""
    _refuse(propose_refusal(user))
    if label is not None:
        label = releases.check_declared(label, movable=True)
    found: Proposal = _manager(bot, user, manager).propose(
        config, base_version, reason=reason, created_by=_author(user), label=label
    )
    return found


def revise(
    bot: BotConfig,
    user: User,
    number: int,
    config: dict[str, Any],
    base_version: int,
    *,
    reason: str = "",
    manager: ConfigVersionManager | None = None,
) -> Proposal:
    """A new revision of proposal ``number`` by its author."""
    _refuse(propose_refusal(user))
    found: Proposal = _manager(bot, user, manager).revise(
        number, config, base_version, reason=reason, created_by=_author(user)
    )
    return found


def review(
    bot: BotConfig,
    user: User,
    number: int,
    decision: str,
    *,
    comment: str = "",
    revision: int | None = None,
    manager: ConfigVersionManager | None = None,
) -> Proposal:
    """Approve or reject proposal ``number`` (``revision``: the one the reviewer saw)."""
    _refuse(review_refusal(user))
    found: Proposal = _manager(bot, user, manager).review_proposal(
        number, decision, _author(user), comment=comment, revision=revision
    )
    return found


def apply(
    bot: BotConfig,
    user: User,
    number: int,
    *,
    reason: str | None = None,
    revision: int | None = None,
    manager: ConfigVersionManager | None = None,
) -> AppliedProposal:
    """Apply approved proposal ``number``: its config (merged onto the newest version)
    becomes a version and its label moves there, in one transaction."""
    manager = _manager(bot, user, manager)
    found = manager.get_proposal(number)
    _refuse(apply_refusal(user, found))
    if found.label is not None and found.label not in releases.declared_labels():
        raise ProposalStateError(
            f"Proposal {found.id} moves label {found.label!r}, which this site no longer "
            "declares: withdraw it and propose again.",
            found.status,
        )
    applied: AppliedProposal = manager.apply_proposal(
        number, applied_by=_author(user), reason=reason, revision=revision
    )
    return applied


def withdraw(
    bot: BotConfig,
    user: User,
    number: int,
    *,
    reason: str = "",
    revision: int | None = None,
    manager: ConfigVersionManager | None = None,
) -> Proposal:
    manager = _manager(bot, user, manager)
    _refuse(withdraw_refusal(user, manager.get_proposal(number)))
    found: Proposal = manager.withdraw_proposal(
        number, by=_author(user), reason=reason, revision=revision
    )
    return found


def _refuse(refusal: str | None) -> None:
    if refusal is not None:
        raise PermissionDenied(refusal)


# What a proposal looks like now --------------------------------------------------


@dataclass(frozen=True)
class ProposalView:
    """A proposal with what a reviewer needs: the diff against its base, the diff
    against the newest version, and what applying it now would write."""

    proposal: Proposal
    base: ConfigVersion  # the version it was made from
    newest: ConfigVersion  # the newest version, as read for this view
    served: ConfigVersion | None  # what its target label serves, when diff_from_label is
    current_version: int
    diff_from_base: dict[str, Any]
    diff_from_current: dict[str, Any]
    preview: MergePreview
    # Where the target label points now, and what applying would change for what it
    # serves: the merge carries every edit made since the base, reviewed or not, so a
    # reviewer of a release sees here what the label's followers would get. None
    # without a target label (or while it is not set: then everything is new), or
    # when the merge conflicts.
    label_version: int | None = None
    diff_from_label: dict[str, Any] | None = None

    @property
    def can_apply_cleanly(self) -> bool:
        return self.preview.clean


def describe(
    bot: BotConfig, number: int, manager: ConfigVersionManager | None = None
) -> ProposalView:
    """Proposal ``number`` of ``bot`` with its diffs and merge preview (ProposalNotFoundError)."""
    if manager is None:
        manager = bot.version_manager
    found = manager.get_proposal(number)
    base = manager.get_version(found.base_version)
    latest = manager.store.latest()
    if base is None or latest is None:  # pragma: no cover - versions are never deleted
        raise VersionNotFoundError(found.base_version)
    preview = manager.preview_proposal(found)
    label_version = diff_from_label = served = None
    if found.label is not None:
        label_version = manager.get_label(found.label)
        if label_version is not None and preview.merged is not None:
            served = manager.get_version(label_version)
            if served is not None:
                diff_from_label = diff_configs(served.config, preview.merged)
    return ProposalView(
        proposal=found,
        base=base,
        newest=latest,
        served=served,
        current_version=latest.version,
        diff_from_base=diff_configs(base.config, found.config),
        diff_from_current=diff_configs(latest.config, found.config),
        preview=preview,
        label_version=label_version,
        diff_from_label=diff_from_label,
    )


def site_proposals(status: str | None = None) -> models.QuerySet[BotConfigProposal]:
    """Every config's proposals, the ones still awaiting a decision first, newest first
    within; only ``status`` if given. One query (the config comes along)."""
    rows = BotConfigProposal.objects.select_related("bot_config").filter(
        bot_config__archived_at__isnull=True
    )
    if status is not None:
        rows = rows.filter(status=status)
    waiting = models.Case(
        models.When(status__in=ACTIVE, then=0), default=1, output_field=models.IntegerField()
    )
    return rows.order_by(waiting, "-updated_at")


def is_ready(proposal: Proposal) -> bool:
    return proposal.status == APPROVED
