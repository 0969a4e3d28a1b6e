"""Admin forms of proposals: the config editor that proposes, and the review page's forms.

Like the config editor, the forms that send a config (proposing, revising) call
``config_versions.review`` while they validate, so that what it refuses comes back as a
form error on the field concerned. The review page's other forms (approve or reject,
apply, withdraw) carry the revision the page showed: a step taken on a page that
showed an older revision is refused, never applied to what the person did not see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config_versions import review
from config_versions.core.errors import (
    InvalidConfigError,
    ProposalError,
    UnknownLabelError,
    VersionNotFoundError,
)
from config_versions.core.proposals import APPROVE, REJECT, Proposal
from config_versions.core.review import MAX_COMMENT_LENGTH
from config_versions.editor_form import BotConfigAdminForm
from config_versions.form_errors import ConfigErrors
from config_versions.forms import JSONConfigField, capitalized, reason_field
from config_versions.releases import declared_labels

if TYPE_CHECKING:
    from config_versions.models import BotConfig
    from config_versions.releases import User


def _no_base(number: object) -> ValidationError:
    return ValidationError(
        _(
            "This form was loaded at version %(n)s, which this config does not have. "
            "Reload the page to edit the current version."
        ),
        code="no_base",
        params={"n": number},
    )


class ProposeForm(BotConfigAdminForm):
    """The config editor of someone whose edits become proposals (``may_only_propose``).

    Its config, made from the version the form was loaded at (``expected_version``),
    is submitted for review instead of saved; the config's own fields are read-only
    (they are no part of a proposal). A form posted without its "Propose change"
    button (a page that offered "Save") writes nothing and says why.
    """

    target_label = forms.ChoiceField(
        label=_("Target label"),
        required=False,
        help_text=_("Moved to the version this proposal becomes when it is applied."),
    )

    # Set by the admin for each request: whether "Propose change" was pressed.
    propose_posted: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.submitted: Proposal | None = None
        self.fields["config"].help_text = _(
            "The whole configuration as JSON, as you propose it. Proposing writes no version."
        )
        self.fields["reason"].help_text = _(
            "Why you propose this change; reviewers read it first, and the history keeps it."
        )
        names = declared_labels()
        if names:
            field = self.fields["target_label"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [
                ("", gettext("None: only a new version")),
                *((name, name) for name in names),
            ]
        else:
            del self.fields["target_label"]

    def _save_version(self) -> None:
        # Called by BotConfigAdminForm.full_clean where an editor's form saves.
        if not self.propose_posted:
            refusal = review.write_refusal(self._user()) or gettext(
                "You may propose changes but not save them directly."
            )
            how = gettext("Nothing was saved: press “Propose change” to propose it.")
            self.add_error(None, ValidationError(f"{refusal} {how}", code="propose_only"))
            return
        config: dict[str, Any] = self.cleaned_data["config"]
        try:
            self.submitted = review.submit(
                self.instance,
                self._user(),
                config,
                self.cleaned_data["expected_version"],
                reason=self.cleaned_data["reason"],
                label=self.cleaned_data.get("target_label") or None,
                manager=self._manager(),
            )
        except PermissionDenied as exc:
            self.add_error(None, ValidationError(str(exc), code="permission"))
        except UnknownLabelError as exc:
            self.add_error("target_label", ValidationError(capitalized(str(exc)), code="label"))
        except VersionNotFoundError as exc:
            self.add_error(None, _no_base(exc.version))
        except InvalidConfigError as exc:
            self._invalid(exc, config)
        except ValidationError as exc:
            self._content_errors("config", exc, config)

    def _user(self) -> User:
        assert self.user is not None  # set by the admin for each request
        return cast("User", self.user)


class ReviewForm(forms.Form):
    """Approve or reject, with a comment, the revision the page showed."""

    decision = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))])
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField cv-comment"}),
        help_text=_("What you checked, or what should change; the author and others see it."),
    )
    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ProposalStepForm(forms.Form):
    """Apply or withdraw: an optional reason and the revision the page showed."""

    reason = forms.CharField(required=False)  # replaced: see reason_field()
    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, reason_help: Any = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = reason_field(required=False, help_text=reason_help)


class ReviseForm(ConfigErrors, forms.Form):
    """A new revision of a proposal by its author: the whole config, made from
    ``base_version``. Submitted while it validates (see the module's docstring)."""

    config = JSONConfigField(
        label=_("Config"),
        help_text=_("The whole configuration as JSON, as you propose it now."),
    )
    reason = forms.CharField(required=False)  # replaced: see reason_field()
    base_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, bot: BotConfig, user: User, proposal: Proposal, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.bot, self.user, self.proposal = bot, user, proposal
        self.revised: Proposal | None = None
        self.fields["reason"] = reason_field(
            required=False,
            help_text=_("What changed in this revision, and why; reviewers read it first."),
        )

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        config: dict[str, Any] = self.cleaned_data["config"]
        number = self.proposal.id
        shown = self.cleaned_data["revision"]
        current = self.bot.version_manager.get_proposal(number).revision.number
        if shown != current:
            self.add_error(None, stale_revision(number, shown, current))
            return
        try:
            self.revised = review.revise(
                self.bot,
                self.user,
                number,
                config,
                self.cleaned_data["base_version"],
                reason=self.cleaned_data["reason"],
            )
        except PermissionDenied as exc:
            self.add_error(None, ValidationError(str(exc), code="permission"))
        except VersionNotFoundError as exc:
            self.add_error(None, _no_base(exc.version))
        except InvalidConfigError as exc:
            self._invalid(exc, config)
        except ProposalError as exc:  # closed meanwhile, or not the author's
            self.add_error(None, ValidationError(str(exc), code="refused"))
        except ValidationError as exc:
            self._content_errors("config", exc, config)


def stale_revision(number: int, shown: int, current: int) -> str:
    """Why a step taken on a page that showed revision ``shown`` was not taken."""
    return gettext(
        "Proposal %(n)s was revised after this page showed revision %(shown)s (revision "
        "%(current)s is current now), so nothing was done. Review what it proposes now."
    ) % {"n": number, "shown": shown, "current": current}
