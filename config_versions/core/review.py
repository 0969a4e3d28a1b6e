"""The review rules of the version manager: propose, revise, review, withdraw, apply.

Part of :class:`~config_versions.core.manager.ConfigVersionManager` (it inherits
:class:`ReviewRules`), kept in its own module because it is one concern: what a
proposal may do next, and applying one (a three-way merge onto the newest version, the
version and the label move written together). Every step is a recorded
:class:`~config_versions.core.proposals.ProposalEvent`, written inside
``store.serialized()`` (the config's lock), so two reviewers or two appliers of one
config take turns, on every store.

Long because each step (submit, revise, review, withdraw, apply) has its refusals
spelled out next to it, and the replay of recorded steps (``from_dict``) checks each one
as the steps themselves do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from config_versions.core.errors import (
    InvalidConfigError,
    MergeConflictError,
    ProposalNotFoundError,
    ProposalStateError,
    ReviewRefusedError,
    StoreConflict,
    VersionNotFoundError,
)
from config_versions.core.events import LabelMoved, ProposalRecorded, VersionWritten
from config_versions.core.fields import check_text
from config_versions.core.jsondata import content_hash
from config_versions.core.labels import LabelMove, is_version_number
from config_versions.core.merge import MergePreview, three_way_merge
from config_versions.core.proposals import (
    ACTIVE,
    APPLIED_EVENT,
    APPROVED,
    DECISIONS,
    EVENT_KINDS,
    REVIEWED,
    REVISED,
    SUBMITTED,
    WITHDRAWN_EVENT,
    Proposal,
    ProposalEvent,
    ReviewPolicy,
    fold,
)
from config_versions.core.stores import ProposalStore, ReviewedStore
from config_versions.core.version import ConfigVersion

if TYPE_CHECKING:
    from config_versions.core.events import Event
    from config_versions.core.stores import VersionStore

logger = logging.getLogger("config_versions")

MAX_COMMENT_LENGTH = 10_000


@dataclass(frozen=True)
class AppliedProposal:
    """What applying a proposal did: the proposal (now ``applied``), the version it
    became (``unchanged`` set when the newest version already had its config), and the
    label move (None without a target label, or when the label already pointed there)."""

    proposal: Proposal
    version: ConfigVersion
    move: LabelMove | None
    merged_onto: int | None


class ReviewRules:
    """Proposals and their review; mixed into ``ConfigVersionManager``."""

    review_policy: ReviewPolicy

    if TYPE_CHECKING:
        _store: VersionStore
        clock: Any
        max_reason_length: int

        def _prepare(self, config: object, *, copy: bool = True) -> tuple[dict[str, Any], str]: ...

        def _prepare_hashed(
            self, config: object, *, copy: bool = True, may_be_current: bool = False
        ) -> tuple[dict[str, Any], str, str | None]: ...

        def _check_fields(
            self, reason: object, created_by: object, metadata: Mapping[str, Any] | None
        ) -> dict[str, Any]: ...

        def _check_label(self, name: object, *, movable: bool = False) -> str: ...

        def _require(self, number: int) -> ConfigVersion: ...

        def _unchanged(self, number: int) -> ConfigVersion: ...

        def _notify(self, event: Event) -> None: ...

    # Reading -------------------------------------------------------------------

    def get_proposal(self, proposal: int) -> Proposal:
        """Proposal number ``proposal`` as its events add up to; ProposalNotFoundError."""
        number = _number(proposal)
        found = fold(self._proposal_store().proposal_events(number), self.review_policy)
        if number not in found:
            raise ProposalNotFoundError(proposal)
        return found[number]

    def proposals(self, status: str | None = None) -> list[Proposal]:
        """The config's proposals, newest first; only those in ``status`` if given."""
        found = fold(self._proposal_store().proposal_events(), self.review_policy)
        return [
            p
            for _, p in sorted(found.items(), reverse=True)
            if status is None or p.status == status
        ]

    def preview_proposal(self, proposal: int | Proposal) -> MergePreview:
        """What applying ``proposal`` (its number, or the proposal already read) would
        write now: its config merged onto the newest version, or the conflicting JSON
        Pointers; writes nothing."""
        found = proposal if isinstance(proposal, Proposal) else self.get_proposal(proposal)
        return self._merge_onto_latest(found)

    # Writing -------------------------------------------------------------------

    def propose(
        self,
        config: dict[str, Any],
        base_version: int,
        reason: str = "",
        created_by: str | None = None,
        label: str | None = None,
    ) -> Proposal:
        """Submit ``config``, made from ``base_version``, for review; ``label`` is moved
        to the version it becomes when applied. The config must pass every rule a
        version must (they run again when it is applied)."""
        data = self._proposed(config, base_version, reason, created_by)
        if label is not None:
            label = self._check_label(label, movable=True)
        store = self._proposal_store()
        with store.serialized() as head:
            if base_version > head:
                raise VersionNotFoundError(base_version)
            number = store.last_proposal() + 1
            proposal = self._record(
                store,
                number,
                SUBMITTED,
                created_by,
                {"config": data, "base_version": base_version, "reason": reason, "label": label},
            )
        logger.info("Proposal %d submitted from version %d", number, base_version)
        self._notify(ProposalRecorded(proposal.events[-1], proposal))
        return proposal

    def revise(
        self,
        proposal: int,
        config: dict[str, Any],
        base_version: int,
        reason: str = "",
        created_by: str | None = None,
    ) -> Proposal:
        """A new revision of ``proposal`` by its author; earlier approvals stop counting."""
        data = self._proposed(config, base_version, reason, created_by)
        store = self._proposal_store()
        with store.serialized() as head:
            if base_version > head:
                raise VersionNotFoundError(base_version)
            found = self._active(store, proposal, "revised")
            if created_by != found.author:
                raise ReviewRefusedError(
                    f"Only the author of proposal {found.id} ({found.author or 'unknown'}) "
                    "may revise it; propose a change of your own instead."
                )
            revised = self._record(
                store,
                found.id,
                REVISED,
                created_by,
                {"config": data, "base_version": base_version, "reason": reason},
            )
        self._notify(ProposalRecorded(revised.events[-1], revised))
        return revised

    def review_proposal(
        self,
        proposal: int,
        decision: str,
        reviewer: str | None = None,
        comment: str = "",
        revision: int | None = None,
    ) -> Proposal:
        """Record ``reviewer``'s ``approve`` or ``reject`` of the proposal's current
        revision (``revision``, when given, must be it: an approval of what the reviewer
        did not see is refused). A reviewer's later review replaces their earlier one."""
        if decision not in DECISIONS:
            raise InvalidConfigError(
                f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}",
                field="decision",
            )
        check_text("comment", comment, max_length=MAX_COMMENT_LENGTH)
        self._check_fields("", reviewer, None)
        store = self._proposal_store()
        with store.serialized():
            found = self._active(store, proposal, "reviewed")
            current = found.revision.number
            _check_revision(found, revision, "review")
            if reviewer == found.author and not self.review_policy.allow_self_approval:
                raise ReviewRefusedError(
                    f"You wrote proposal {found.id}: someone else must review it."
                )
            reviewed = self._record(
                store,
                found.id,
                REVIEWED,
                reviewer,
                {"decision": decision, "comment": comment, "revision": current},
            )
        self._notify(ProposalRecorded(reviewed.events[-1], reviewed))
        return reviewed

    def withdraw_proposal(
        self, proposal: int, by: str | None = None, reason: str = "", revision: int | None = None
    ) -> Proposal:
        """Close ``proposal`` without applying it (``revision``, when given, must still
        be its current one)."""
        self._check_fields(reason, by, None)
        store = self._proposal_store()
        with store.serialized():
            found = self._active(store, proposal, "withdrawn")
            _check_revision(found, revision, "withdraw")
            withdrawn = self._record(store, found.id, WITHDRAWN_EVENT, by, {"reason": reason})
        self._notify(ProposalRecorded(withdrawn.events[-1], withdrawn))
        return withdrawn

    def apply_proposal(
        self,
        proposal: int,
        applied_by: str | None = None,
        reason: str | None = None,
        revision: int | None = None,
    ) -> AppliedProposal:
        """Write an approved proposal as the next version, and move its label there.

        If the newest version is still the proposal's base, its config is written as
        is; if not, its edits are merged onto the newest version (three-way), recorded
        in metadata (``merged_onto``). A proposal that edits nothing is a release of
        its base version as it is: no version is written and its label moves there.
        Conflicts raise :class:`MergeConflictError` naming every JSON Pointer; nothing
        is written. The validators run on what is
        written. The version, the label move and the proposal's ``applied`` event are
        one transaction (one ``serialized()`` block). ``revision``, when given, must
        still be the proposal's current one (what the person applying saw).
        """
        if reason is not None:
            self._check_fields(reason, applied_by, None)
        else:
            self._check_fields("", applied_by, None)
        store = self._proposal_store()
        with store.serialized() as head:
            found = self._proposal(store, proposal)
            if found.status != APPROVED:
                raise ProposalStateError(self._not_approved(found), found.status)
            _check_revision(found, revision, "apply")
            preview = self._merge_onto_latest(found)
            if preview.merged is None:
                raise MergeConflictError(
                    f"Proposal {found.id} was made from version {found.base_version}; its "
                    f"edits conflict with version {preview.onto_version} at "
                    f"{', '.join(preview.conflicts)}. Revise it from version "
                    f"{preview.onto_version}.",
                    expected_version=found.base_version,
                    actual_version=preview.onto_version,
                    conflicts=preview.conflicts,
                )
            if preview.onto_version == found.base_version and head != found.base_version:
                # A release of its base version as it is: the label moves there.
                merged_onto = None
                version, written = self._unchanged(found.base_version), False
            else:
                merged_onto = head if head != found.base_version else None
                version, written = self._apply_version(
                    store, found, preview.merged, head, merged_onto, applied_by, reason
                )
            move = self._apply_label(store, found, version.version, applied_by)
            applied = self._record(
                store,
                found.id,
                APPLIED_EVENT,
                applied_by,
                {
                    "version": version.version,
                    "revision": found.revision.number,
                    "label": found.label,
                    "label_move": move.sequence if move is not None else None,
                    "approvers": list(found.approvers),
                    "merged_onto": merged_onto,
                },
            )
        logger.info("Proposal %d applied as version %d", found.id, version.version)
        if written:
            self._notify(VersionWritten(version))
        if move is not None:
            self._notify(LabelMoved(move))
        self._notify(ProposalRecorded(applied.events[-1], applied))
        return AppliedProposal(applied, version, move, merged_onto)

    # Restoring (from_dict) -----------------------------------------------------

    def _restore_proposal_events(self, raw_events: object, versions: int) -> None:
        """Replay recorded proposal events, checking each is well formed and follows
        its proposal's earlier ones; one carrying a chain hash must keep it."""
        if not isinstance(raw_events, list):
            raise ValueError("'proposal_events' must be a list of event objects")
        if not raw_events:
            return
        store = self._proposal_store()
        steps: dict[int, list[ProposalEvent]] = {}  # each proposal's events, oldest first
        for number, raw in enumerate(raw_events, start=1):
            where = f"Proposal event {number}"
            if not isinstance(raw, Mapping):
                raise ValueError(f"{where} is not an object")
            try:
                event = ProposalEvent.from_dict(raw)
            except KeyError as exc:
                raise ValueError(f"{where} has no {exc} field") from None
            earlier = steps.get(event.proposal) if is_version_number(event.proposal) else None
            _check_event(where, event, earlier, len(steps), versions)
            if event.sequence not in (0, number):
                raise ValueError(f"{where} has number {event.sequence!r}; events go 1, 2 ...")
            self._check_fields("", event.actor, None)
            own = [*(earlier or []), event]
            stored = store.append_proposal_event(
                replace(event, sequence=0, chain_hash="", timestamp=float(event.timestamp)),
                fold(own, self.review_policy)[event.proposal],
            )
            if event.chain_hash and stored.chain_hash != event.chain_hash:
                raise ValueError(f"{where}: its recorded fields do not match its chain hash")
            steps[event.proposal] = [*own[:-1], stored]

    # Internals -----------------------------------------------------------------

    def _proposal_store(self) -> ReviewedStore:
        store = self._store
        if not isinstance(store, ProposalStore):
            raise TypeError(
                f"{type(store).__name__} keeps no proposals (see core.stores.ProposalStore)"
            )
        return cast(ReviewedStore, store)

    def _proposed(
        self, config: dict[str, Any], base_version: int, reason: str, created_by: str | None
    ) -> dict[str, Any]:
        self._check_fields(reason, created_by, None)
        if not is_version_number(base_version):
            raise VersionNotFoundError(base_version)
        data, _ = self._prepare(config)
        return data

    def _proposal(self, store: ReviewedStore, proposal: int) -> Proposal:
        number = _number(proposal)
        found = fold(store.proposal_events(number), self.review_policy)
        if number not in found:
            raise ProposalNotFoundError(proposal)
        return found[number]

    def _active(self, store: ReviewedStore, proposal: int, step: str) -> Proposal:
        found = self._proposal(store, proposal)
        if found.status not in ACTIVE:
            how = (
                f"applied as version {found.applied_version}"
                if found.applied_version is not None
                else found.status
            )
            raise ProposalStateError(
                f"Proposal {found.id} is already {how}; it cannot be {step}.", found.status
            )
        return found

    def _not_approved(self, found: Proposal) -> str:
        if found.status == "applied":
            return f"Proposal {found.id} is already applied as version {found.applied_version}."
        if found.status == "withdrawn":
            return f"Proposal {found.id} was withdrawn."
        if found.status == "rejected":
            return f"Proposal {found.id} was rejected by {', '.join(map(str, found.rejecters))}."
        return (
            f"Proposal {found.id} needs {self.review_policy.required_approvals} approval(s) of "
            f"its revision {found.revision.number}; it has {len(found.approvers)}."
        )

    def _record(
        self, store: ReviewedStore, number: int, kind: str, actor: str | None, data: dict[str, Any]
    ) -> Proposal:
        """Append one event of proposal ``number`` (inside ``serialized()``); the
        proposal as it stands after it."""
        event = ProposalEvent(number, kind, self.clock(), actor, data)
        earlier = store.proposal_events(number) if kind != SUBMITTED else []
        state = fold([*earlier, event], self.review_policy)[number]
        stored = store.append_proposal_event(event, state)
        return replace(state, events=(*state.events[:-1], stored))

    def _merge_onto_latest(self, found: Proposal) -> MergePreview:
        base_version = found.base_version
        latest = self._store.latest()
        if latest is None:  # pragma: no cover - the base exists, so a version does
            raise VersionNotFoundError(base_version)
        if latest.version == base_version:
            return MergePreview(base_version, base_version, found.config, [])
        base = self._require(base_version)
        if content_hash(base.config) == content_hash(found.config):
            # Nothing edited: a release of the base version as it is, not a merge of
            # no edits onto the newest version (which would release newer, unreviewed
            # work under the proposal's name).
            return MergePreview(base_version, base_version, base.config, [])
        merged, conflicts = three_way_merge(base.config, found.config, latest.config)
        return MergePreview(base_version, latest.version, None if conflicts else merged, conflicts)

    def _apply_version(
        self,
        store: ReviewedStore,
        found: Proposal,
        config: dict[str, Any],
        head: int,
        merged_onto: int | None,
        applied_by: str | None,
        reason: str | None,
    ) -> tuple[ConfigVersion, bool]:
        data, encoded, content = self._prepare_hashed(config)
        metadata: dict[str, Any] = {
            "proposal": found.id,
            "revision": found.revision.number,
            "approvers": list(found.approvers),
        }
        if merged_onto is not None:
            metadata.update(merged_from=found.base_version, merged_onto=merged_onto)
        version = ConfigVersion(
            version=head + 1,
            config=data,
            timestamp=self.clock(),
            reason=reason or found.reason or f"Proposal {found.id}",
            previous_version=head,
            created_by=applied_by,
            metadata=metadata,
        )
        try:
            written = store.append(
                version, encoded=encoded, content_hash=content, unless_unchanged=True
            )
        except StoreConflict:  # pragma: no cover - serialized() holds writers off
            raise RuntimeError("An append inside serialized() lost its number") from None
        if not written:
            return self._unchanged(head), False
        return version, True

    def _apply_label(
        self, store: ReviewedStore, found: Proposal, version: int, applied_by: str | None
    ) -> LabelMove | None:
        if found.label is None:
            return None
        last = store.label_head(found.label)
        if last is not None and last.to_version == version:
            return None
        return store.append_label_move(
            LabelMove(
                label=found.label,
                from_version=last.to_version if last is not None else None,
                to_version=version,
                timestamp=self.clock(),
                reason=f"Proposal {found.id}: {found.reason}"[: self.max_reason_length],
                created_by=applied_by,
            )
        )


def _check_revision(found: Proposal, revision: int | None, step: str) -> None:
    """Refuse a step taken on a revision that is no longer the proposal's current one."""
    current = found.revision.number
    if revision is not None and revision != current:
        raise ProposalStateError(
            f"Proposal {found.id} was revised: revision {revision} is no longer current "
            f"(revision {current} is); {step} what it proposes now.",
            found.status,
        )


def _number(proposal: object) -> int:
    if not is_version_number(proposal):
        raise ProposalNotFoundError(proposal)
    return proposal


def _check_event(
    where: str,
    event: ProposalEvent,
    earlier: list[ProposalEvent] | None,
    proposals: int,
    versions: int,
) -> None:
    """Refuse a replayed event that no manager could have written after ``earlier`` (the
    same proposal's events; None if it has none) when ``proposals`` were submitted.

    The checks do not depend on the review policy (it may have changed since): an apply
    must name the current revision, the proposal's label, and approvers whose last word
    on that revision is an approval, with no rejection standing.
    """
    if event.kind not in EVENT_KINDS:
        raise ValueError(f"{where} has an unknown kind {event.kind!r}")
    if not is_version_number(event.proposal):
        raise ValueError(f"{where} names no proposal number")
    ts = event.timestamp
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise ValueError(f"{where} has no numeric timestamp")
    if not isinstance(event.data, dict):
        raise ValueError(f"{where}: 'data' must be an object")
    data = event.data
    if event.kind in (SUBMITTED, REVISED):
        base = data.get("base_version")
        if (
            not isinstance(data.get("config"), dict)
            or not is_version_number(base)
            or base > versions
        ):
            raise ValueError(f"{where} has no config, or a base version not held")
    if event.kind == SUBMITTED:
        if earlier is not None or event.proposal != proposals + 1:
            raise ValueError(f"{where} submits proposal {event.proposal} out of order")
        return
    if earlier is None:
        raise ValueError(f"{where} is a step of proposal {event.proposal}, never submitted")
    if any(e.kind in (APPLIED_EVENT, WITHDRAWN_EVENT) for e in earlier):
        raise ValueError(f"{where} follows the close of proposal {event.proposal}")
    state = fold(earlier, ReviewPolicy(allow_self_approval=True))[event.proposal]
    current = state.revision.number
    if event.kind == REVISED and event.actor != state.author:
        raise ValueError(f"{where} revises proposal {event.proposal}, not by its author")
    if event.kind == REVIEWED and (
        data.get("decision") not in DECISIONS or data.get("revision") != current
    ):
        raise ValueError(f"{where} is no review of the current revision ({current})")
    if event.kind == APPLIED_EVENT:
        target = data.get("version")
        if not is_version_number(target) or target > versions:
            raise ValueError(f"{where} names version {target!r}: not held")
        approvers = data.get("approvers")
        if (
            data.get("revision") != current
            or data.get("label") != state.label
            or not isinstance(approvers, list)
            or not approvers
            or not set(approvers) <= set(state.approvers)
            or state.rejecters
        ):
            raise ValueError(
                f"{where} applies proposal {event.proposal} without the approvals, revision "
                "or label its steps record"
            )
