"""What the proposal endpoints read and write. Input is only checked for its shape here:
who may do what is ``config_versions.review``'s rule, what a proposal may do next the
version manager's."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config_versions import releases
from config_versions.api.label_serializers import QueryTextField
from config_versions.api.serializers import (
    MAX_VERSION,
    ChangeSerializer,
    ConfigField,
    ErrorSerializer,
    QueryIntegerField,
    TextField,
    VersionSerializer,
    WholeNumberField,
)
from config_versions.core.errors import UnknownLabelError
from config_versions.core.proposals import DECISIONS, STATUSES
from config_versions.core.review import MAX_COMMENT_LENGTH

# Reading -------------------------------------------------------------------------------


class RevisionSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField(read_only=True, help_text="1 for the first submission.")
    base_version = serializers.IntegerField(
        read_only=True, help_text="The version this revision was made from."
    )
    reason = serializers.CharField(read_only=True)
    submitted_by = serializers.CharField(
        read_only=True, allow_null=True, help_text="The username of whoever submitted it."
    )
    created_at = serializers.DateTimeField(read_only=True)


class ReviewSerializer(serializers.Serializer[Any]):
    reviewer = serializers.CharField(read_only=True, allow_null=True)
    decision = serializers.ChoiceField(choices=DECISIONS, read_only=True)
    comment = serializers.CharField(read_only=True)
    revision = serializers.IntegerField(read_only=True, help_text="The revision reviewed.")
    created_at = serializers.DateTimeField(read_only=True)


class ProposalSerializer(serializers.Serializer[Any]):
    """A proposal as its recorded steps add up to (the fields of its current revision)."""

    id = serializers.IntegerField(
        read_only=True, help_text="Number of the proposal among the config's: 1, 2, 3 ..."
    )
    status = serializers.ChoiceField(
        choices=STATUSES,
        read_only=True,
        help_text=(
            "open (awaiting approvals), approved (enough approvals of its current revision), "
            "rejected (a reviewer rejected its current revision), applied, withdrawn."
        ),
    )
    author = serializers.CharField(read_only=True, allow_null=True)
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        read_only=True,
        allow_null=True,
        help_text="The label moved to the version it becomes when applied; null for none.",
    )
    base_version = serializers.IntegerField(
        read_only=True, help_text="The version the current revision was made from."
    )
    revision = serializers.IntegerField(read_only=True, help_text="Its current revision.")
    reason = serializers.CharField(read_only=True)
    config = ConfigField(read_only=True, help_text="The config its current revision proposes.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, help_text="Its last step.")
    approvals = serializers.ListField(
        child=serializers.CharField(allow_null=True),
        read_only=True,
        help_text=(
            "Who approved its current revision (an approval of an earlier revision no "
            "longer counts); once applied, the approvals it was applied with."
        ),
    )
    required_approvals = serializers.IntegerField(
        read_only=True, help_text='Approvals needed to apply it (CONFIG_VERSIONS["REVIEW"]).'
    )
    reviews = ReviewSerializer(many=True, read_only=True, help_text="Every review, oldest first.")
    revisions = RevisionSerializer(
        many=True, read_only=True, help_text="Every revision, oldest first."
    )
    applied_version = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The version it became; null until applied."
    )
    url = serializers.URLField(read_only=True)


class ProposalDiffSerializer(serializers.Serializer[Any]):
    added = serializers.DictField(read_only=True, help_text="Top-level keys added: new values.")
    removed = serializers.DictField(read_only=True, help_text="Top-level keys removed: old values.")
    changed = serializers.DictField(
        read_only=True, help_text='Top-level keys changed: {"from": old, "to": new}.'
    )
    changes = ChangeSerializer(many=True, read_only=True, help_text="Every nested difference.")


class MergePreviewSerializer(serializers.Serializer[Any]):
    onto_version = serializers.IntegerField(
        read_only=True, help_text="The newest version, which applying now would build on."
    )
    clean = serializers.BooleanField(
        read_only=True, help_text="Whether applying now would write (no conflicts)."
    )
    merged = ConfigField(
        read_only=True,
        allow_null=True,
        help_text=(
            "The config applying now would write: the proposal's edits (from its base "
            "version) carried onto the newest version; null when they conflict."
        ),
    )
    conflicts = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="JSON Pointers both the proposal and the newer versions changed differently.",
    )


class ProposalDetailSerializer(ProposalSerializer):
    current_version = serializers.IntegerField(
        read_only=True, help_text="The config's newest version now."
    )
    diff_from_base = ProposalDiffSerializer(
        read_only=True, help_text="From its base version to the config it proposes."
    )
    diff_from_current = ProposalDiffSerializer(
        read_only=True, help_text="From the newest version to the config it proposes."
    )
    merge_preview = MergePreviewSerializer(
        read_only=True,
        allow_null=True,
        help_text="What applying it now would write; null once it is applied or withdrawn.",
    )
    label_version = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Where its target label points now; null without one, or while it is not set.",
    )
    diff_from_label = ProposalDiffSerializer(
        read_only=True,
        allow_null=True,
        help_text=(
            "From what its target label serves now to what applying would write: every "
            "edit the label's followers would get, including newer versions the merge "
            "carries along. Null without a set target label, with conflicts, or once closed."
        ),
    )


class AppliedLabelSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True, help_text="Where it points now.")


class ApplyResultSerializer(serializers.Serializer[Any]):
    proposal = ProposalSerializer(read_only=True, help_text="The proposal, now applied.")
    version = VersionSerializer(
        read_only=True,
        help_text=(
            "The version it became; metadata names the proposal, its approvers and, for a "
            "merge, merged_from and merged_onto."
        ),
    )
    version_created = serializers.BooleanField(
        read_only=True,
        help_text=(
            "False when the newest version already held the config to write: no version "
            "was written, and that version is answered."
        ),
    )
    label = AppliedLabelSerializer(  # type: ignore[assignment]  # a field, not Field.label
        read_only=True, allow_null=True, help_text="The label moved there; null for none."
    )
    merged_onto = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=(
            "The newest version its edits were merged onto, when the config had moved on "
            "since its base version; null when applied on its base."
        ),
    )


# Error bodies ----------------------------------------------------------------------------


class ProposalStateSerializer(ErrorSerializer):
    status = serializers.ChoiceField(
        choices=STATUSES, help_text="The proposal's status, which does not allow the step."
    )


class MergeConflictSerializer(ErrorSerializer):
    conflicts = serializers.ListField(
        child=serializers.CharField(),
        help_text="Every JSON Pointer both sides changed differently.",
    )
    current_version = serializers.IntegerField(
        help_text="The newest version: revise the proposal from it."
    )


class ReviewRequiredSerializer(ErrorSerializer):
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        help_text="The label, which moves only by applying an approved proposal."
    )
    proposals = serializers.URLField(help_text="Where to propose the change.")


# Writing -------------------------------------------------------------------------------


class ProposalLabelField(serializers.CharField):
    """A label the site declares (not ``latest``); the 400 names the site's labels."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(f"Must be a string, not {type(data).__name__}.")
        try:
            return releases.check_declared(data, movable=True)
        except UnknownLabelError as exc:
            raise serializers.ValidationError(str(exc)) from None


def _base_version() -> WholeNumberField:
    return WholeNumberField(
        min_value=1,
        max_value=MAX_VERSION,
        help_text="The version the config was edited from (else 404); edits made since are kept.",
    )


def _reason(help_text: str) -> TextField:
    return TextField(
        required=False, allow_blank=True, limit_setting="MAX_REASON_LENGTH", help_text=help_text
    )


class ProposeSerializer(serializers.Serializer[Any]):
    config = ConfigField(help_text="The whole config proposed (replace, never patch).")
    base_version = _base_version()
    reason = _reason("Why the change (shown to reviewers, and the version's reason).")
    label = ProposalLabelField(  # type: ignore[assignment]  # a field, not Field.label
        required=False,
        allow_null=True,
        trim_whitespace=False,
        help_text=(
            "A label the site declares, moved to the new version when the proposal is "
            "applied; left out or null: none."
        ),
    )


class ReviseSerializer(serializers.Serializer[Any]):
    config = ConfigField(help_text="The whole config, as revised.")
    base_version = _base_version()
    reason = _reason("Why this revision.")


class ReviewWriteSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=DECISIONS)
    comment = TextField(
        required=False,
        allow_blank=True,
        max_length=MAX_COMMENT_LENGTH,
        help_text="What the reviewer says.",
    )
    revision = WholeNumberField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text=(
            "The revision the reviewer read: refused (409) if the author has revised it "
            "since. Left out: the current one."
        ),
    )


def _seen_revision(step: str) -> WholeNumberField:
    return WholeNumberField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text=(
            f"The revision the caller read: refused (409) if the author has revised it "
            f"since, and nothing is {step}. Left out: the current one."
        ),
    )


class ApplySerializer(serializers.Serializer[Any]):
    reason = _reason("The new version's reason; left out or blank: the proposal's.")
    revision = _seen_revision("applied")


class WithdrawSerializer(serializers.Serializer[Any]):
    reason = _reason("Why it is withdrawn.")
    revision = _seen_revision("withdrawn")


# Query strings and paths -------------------------------------------------------------------


class StatusQueryField(QueryTextField):
    default_error_messages = {"invalid": "status must be one of {choices}, not {value!r}."}

    def to_internal_value(self, data: Any) -> str:
        if data not in STATUSES:
            self.fail("invalid", choices=", ".join(STATUSES), value=data)
        return str(data)


class ProposalQuerySerializer(serializers.Serializer[Any]):
    status = StatusQueryField(required=False)


class ProposalPathSerializer(serializers.Serializer[Any]):
    id = QueryIntegerField(min_value=1, max_value=MAX_VERSION)
