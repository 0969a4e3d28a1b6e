"""The steps of a proposal's review page: approve or reject, apply, withdraw, revise; each
refusal shown as an error on the page (never a 500), and a page that showed an older
revision taking no step."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.models import LogEntry

from config_versions.models import BotConfigLabelMove, BotConfigProposalEvent
from tests.admin.helpers import messages_of, text, url, version_numbers
from tests.admin.test_proposals import LABELS, OPUS, REVIEW, V2, Roles, with_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


@pytest.fixture
def as_role(db):
    return Roles()


@pytest.fixture
def proposed(bot_with_history):
    return with_proposal(bot_with_history)


def approve(bot, number=1, by="reviewer"):
    return bot.version_manager.review_proposal(number, "approve", by)


def refused(response) -> str:
    """The error the page shows on top after a refused step."""
    assert response.status_code == 200
    found = re.search(
        r'<p class="errornote cv-step-refused">(.*?)</p>', response.content.decode(), re.S
    )
    assert found is not None, text(response)[:2000]
    return re.sub(r"<[^>]+>", " ", found.group(1))


def events(bot) -> int:
    return BotConfigProposalEvent.objects.filter(bot_config=bot).count()


def status(bot, number=1) -> str:
    return bot.version_manager.get_proposal(number).status


# Approve or reject -------------------------------------------------------------------------


def test_approving_records_the_review(as_role, proposed):
    response = as_role("reviewer").post(
        url("proposal_review", proposed.pk, 1),
        {"decision": "approve", "comment": "Ship it ✔", "revision": "1"},
        follow=True,
    )
    assert response.redirect_chain == [(url("proposal", proposed.pk, 1), 302)]
    assert messages_of(response) == [
        "You approved revision 1 of proposal 1. It has the approvals it needs and can be applied."
    ]
    found = proposed.version_manager.get_proposal(1)
    assert found.status == "approved"
    assert [(r.reviewer, r.decision, r.comment, r.revision) for r in found.reviews] == [
        ("reviewer", "approve", "Ship it ✔", 1)
    ]
    page = text(response)
    assert "Approved: it can be applied." in page
    assert "Ship it ✔" in page


def test_with_two_approvals_needed_the_first_says_so(as_role, proposed, settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": {**REVIEW, "required_approvals": 2}}
    response = as_role("reviewer").post(
        url("proposal_review", proposed.pk, 1),
        {"decision": "approve", "revision": "1"},
        follow=True,
    )
    assert messages_of(response) == [
        "You approved revision 1 of proposal 1. It needs 1 more approval."
    ]
    assert status(proposed) == "open"


def test_rejecting_with_a_comment(as_role, proposed):
    response = as_role("reviewer").post(
        url("proposal_review", proposed.pk, 1),
        {"decision": "reject", "comment": "Opus is too slow\nfor chat", "revision": "1"},
        follow=True,
    )
    assert messages_of(response) == ["You rejected revision 1 of proposal 1."]
    assert status(proposed) == "rejected"
    assert "Rejected by reviewer. Its author can revise it." in text(response)
    assert "Opus is too slow<br>for chat" in response.content.decode()


def test_self_approval_is_refused_on_the_page(as_role, proposed):
    before = events(proposed)
    response = as_role("proposer", "review_botconfig").post(
        url("proposal_review", proposed.pk, 1),
        {"decision": "approve", "comment": "mine is fine", "revision": "1"},
    )
    assert refused(response) == (
        "Nothing was done: You wrote proposal 1: someone else must review it."
    )
    assert events(proposed) == before
    assert status(proposed) == "open"


def test_reviewing_needs_the_review_permission(as_role, proposed):
    for role in ("editor", "other_proposer", "viewer", "nobody"):
        response = as_role(role).post(
            url("proposal_review", proposed.pk, 1), {"decision": "approve", "revision": "1"}
        )
        assert response.status_code == 403, role
    assert not proposed.version_manager.get_proposal(1).reviews


def test_an_approval_of_an_older_revision_is_refused(as_role, proposed):
    client = as_role("reviewer")
    shown = client.get(url("proposal", proposed.pk, 1))
    assert 'name="revision" value="1"' in shown.content.decode()
    proposed.version_manager.revise(
        1, {**OPUS, "tone": "warm"}, 2, reason="r2", created_by="proposer"
    )
    response = client.post(
        url("proposal_review", proposed.pk, 1),
        {"decision": "approve", "comment": "looked at it", "revision": "1"},
    )
    # The manager's refusal: it checks the revision under the config's lock.
    assert refused(response) == (
        "Nothing was done: Proposal 1 was revised: revision 1 is no longer current (revision "
        "2 is); review what it proposes now."
    )
    assert not proposed.version_manager.get_proposal(1).reviews
    # The page shown again is the current revision, with the comment kept.
    html = response.content.decode()
    assert 'name="revision" value="2"' in html
    assert "looked at it</textarea>" in html


def test_reviewing_a_closed_proposal_is_refused(as_role, proposed):
    client = as_role("reviewer")
    proposed.version_manager.withdraw_proposal(1, by="proposer")
    response = client.post(
        url("proposal_review", proposed.pk, 1), {"decision": "approve", "revision": "1"}
    )
    assert "Proposal 1 is already withdrawn; it cannot be reviewed." in refused(response)


def test_a_malformed_review_writes_nothing(as_role, proposed):
    client = as_role("reviewer")
    for data in ({"decision": "approve"}, {"decision": "maybe", "revision": "1"}, {}):
        response = client.post(url("proposal_review", proposed.pk, 1), data)
        assert refused(response)
    long = client.post(
        url("proposal_review", proposed.pk, 1),
        {"decision": "approve", "revision": "1", "comment": "x" * 10_001},
    )
    assert "at most 10000 characters" in refused(long)
    assert not proposed.version_manager.get_proposal(1).reviews


@pytest.mark.parametrize("step", ["proposal_review", "proposal_apply", "proposal_withdraw"])
def test_steps_answer_get_with_405(as_role, proposed, step):
    assert as_role("superuser").get(url(step, proposed.pk, 1)).status_code == 405


def test_a_step_on_a_missing_proposal_is_404(as_role, proposed):
    client = as_role("superuser")
    assert (
        client.post(
            url("proposal_review", proposed.pk, 7), {"decision": "approve", "revision": "1"}
        )
    ).status_code == 404
    assert (
        client.post(url("proposal_apply", proposed.pk, 7), {"apply-revision": "1"}).status_code
        == 404
    )


# Apply -------------------------------------------------------------------------------------


def apply(client, bot, number=1, revision=1, reason=""):
    return client.post(
        url("proposal_apply", bot.pk, number),
        {"apply-revision": str(revision), "apply-reason": reason},
        follow=True,
    )


def test_applying_writes_the_version_and_moves_the_label(as_role, proposed):
    approve(proposed)
    response = apply(as_role("editor"), proposed, reason="Release opus")
    assert response.redirect_chain == [(url("proposal", proposed.pk, 1), 302)]
    assert messages_of(response) == [
        f'Applied proposal 1 as version 3. production now points at version 3. <a href="'
        f'{url("history", proposed.pk)}#cv-v3">History</a>'
    ]
    assert version_numbers(proposed) == [1, 2, 3]
    written = proposed.version_manager.get_version(3)
    assert written.config == OPUS
    assert (written.reason, written.created_by) == ("Release opus", "editor")
    assert written.metadata["proposal"] == 1
    assert written.metadata["approvers"] == ["reviewer"]
    assert proposed.version_manager.get_label("production") == 3
    assert status(proposed) == "applied"
    assert LogEntry.objects.get().get_change_message() == "Applied proposal 1 as version 3."
    page = text(response)
    assert "Applied as version 3 by editor." in page
    assert "What applying it writes" not in page  # closed: no preview, no steps


def test_applying_an_unapproved_proposal_is_refused(as_role, proposed):
    response = apply(as_role("editor"), proposed)
    assert "Proposal 1 needs 1 approval(s) of its revision 1; it has 0." in refused(response)
    assert version_numbers(proposed) == [1, 2]


def test_applying_twice_writes_once(as_role, proposed):
    approve(proposed)
    client = as_role("editor")
    apply(client, proposed)
    response = apply(client, proposed)
    assert "Proposal 1 is already applied as version 3." in refused(response)
    assert version_numbers(proposed) == [1, 2, 3]
    assert BotConfigLabelMove.objects.filter(bot_config=proposed).count() == 1


def test_apply_with_conflicts_shows_the_paths_and_writes_nothing(as_role, proposed):
    approve(proposed)
    haiku = {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "haiku"}}
    proposed.version_manager.update(haiku, reason="meanwhile", created_by="ann")
    response = apply(as_role("editor"), proposed)
    error = refused(response)
    assert "Nothing was applied. Its edits conflict with version 3 at 1 place:" in error
    assert "/llm/model" in error
    assert version_numbers(proposed) == [1, 2, 3]
    assert proposed.version_manager.get_label("production") is None
    assert status(proposed) == "approved"
    # The page lists the conflict with its three values.
    assert [c.path for c in response.context["conflicts"]] == ["/llm/model"]


def test_apply_after_the_config_moved_merges(as_role, proposed):
    approve(proposed)
    proposed.version_manager.update({**V2, "tone": "warm"}, reason="meanwhile", created_by="ann")
    response = apply(as_role("editor"), proposed)
    assert messages_of(response)[0].startswith(
        "Applied proposal 1 as version 4: its edits were merged onto version 3. production "
        "now points at version 4."
    )
    written = proposed.version_manager.get_version(4)
    assert written.config == {**OPUS, "tone": "warm"}
    assert (written.metadata["merged_from"], written.metadata["merged_onto"]) == (2, 3)
    assert "merged onto version 3" in text(response)


def test_a_page_that_showed_an_older_revision_applies_nothing(as_role, proposed):
    client = as_role("editor")
    approve(proposed)
    client.get(url("proposal", proposed.pk, 1))
    # Meanwhile: a new revision, approved again.
    proposed.version_manager.revise(1, {**OPUS, "tone": "cold"}, 2, created_by="proposer")
    approve(proposed)
    response = apply(client, proposed, revision=1)
    assert "after this page showed revision 1 (revision 2 is current now)" in refused(response)
    assert version_numbers(proposed) == [1, 2]


@pytest.mark.parametrize("role", ["reviewer", "release_editor", "proposer", "viewer"])
def test_applying_needs_change_and_the_label_permissions(as_role, proposed, role):
    approve(proposed)
    response = as_role(role).post(url("proposal_apply", proposed.pk, 1), {"apply-revision": "1"})
    assert response.status_code == 403
    assert version_numbers(proposed) == [1, 2]


def test_the_validators_run_at_apply(as_role, proposed):
    approve(proposed)
    proposed.schema = {"type": "object", "properties": {"llm": {"required": ["temperature"]}}}
    proposed.save()
    response = apply(as_role("editor"), proposed)
    assert "Nothing was done:" in refused(response)
    assert "temperature" in refused(response)
    assert version_numbers(proposed) == [1, 2]
    assert status(proposed) == "approved"


def test_applying_on_an_archived_config_is_refused(as_role, proposed):
    approve(proposed)
    client = as_role("editor")
    proposed.archive(by="admin", reason="retired")
    response = apply(client, proposed)
    assert "archived" in refused(response)
    assert version_numbers(proposed) == [1, 2]
    assert "This config is archived: its proposals wait until it is restored." in text(response)


# Withdraw ----------------------------------------------------------------------------------


def withdraw(client, bot, number=1, revision=1, reason="no longer needed"):
    return client.post(
        url("proposal_withdraw", bot.pk, number),
        {"withdraw-revision": str(revision), "withdraw-reason": reason},
        follow=True,
    )


@pytest.mark.parametrize("role", ["proposer", "editor"])
def test_the_author_or_an_editor_withdraws(as_role, proposed, role):
    response = withdraw(as_role(role), proposed)
    assert messages_of(response) == ["Proposal 1 was withdrawn."]
    found = proposed.version_manager.get_proposal(1)
    assert (found.status, found.closed_by) == ("withdrawn", role)
    assert f"Withdrawn by {role}." in text(response)


@pytest.mark.parametrize("role", ["other_proposer", "reviewer"])
def test_others_may_not_withdraw(as_role, proposed, role):
    response = as_role(role).post(
        url("proposal_withdraw", proposed.pk, 1), {"withdraw-revision": "1"}
    )
    assert response.status_code == 403
    assert status(proposed) == "open"


def test_withdrawing_an_applied_proposal_is_refused(as_role, proposed):
    approve(proposed)
    client = as_role("editor")
    apply(client, proposed)
    response = withdraw(client, proposed)
    assert "Proposal 1 is already applied as version 3; it cannot be withdrawn." in refused(
        response
    )
    assert status(proposed) == "applied"


def test_withdrawing_from_a_stale_page_is_refused(as_role, proposed):
    proposed.version_manager.revise(1, OPUS, 2, reason="again", created_by="proposer")
    response = withdraw(as_role("editor"), proposed, revision=1)
    assert "after this page showed revision 1" in refused(response)
    assert status(proposed) == "open"
    # What was typed is kept on the page shown again.
    assert 'value="no longer needed"' in response.content.decode()


# A new revision ----------------------------------------------------------------------------


def revise_data(config, base=2, revision=1, reason="second try"):
    return {
        "config": json.dumps(config),
        "base_version": str(base),
        "revision": str(revision),
        "reason": reason,
    }


def test_the_author_revises_and_earlier_approvals_stop_counting(as_role, proposed):
    approve(proposed)
    client = as_role("proposer")
    page = client.get(url("proposal_revise", proposed.pk, 1))
    assert page.status_code == 200
    assert json.loads(page.context["form"].initial["config"]) == OPUS
    assert page.context["form"].initial["base_version"] == 2
    response = client.post(
        url("proposal_revise", proposed.pk, 1),
        revise_data({**OPUS, "tone": "warm"}),
        follow=True,
    )
    assert messages_of(response) == [
        "Submitted revision 2 of proposal 1, made from version 2; approvals of earlier "
        "revisions no longer count."
    ]
    found = proposed.version_manager.get_proposal(1)
    assert (found.revision.number, found.status, found.approvers) == (2, "open", ())
    assert found.config == {**OPUS, "tone": "warm"}
    page = text(response)
    assert "an earlier revision" in page  # the approval of revision 1, shown as such


def test_revising_after_the_config_moved_starts_from_the_newest(as_role, proposed):
    manager = proposed.version_manager
    manager.update({"name": "SupportBot", "llm": {"provider": "anthropic", "model": "haiku"}})
    manager.update(
        {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "haiku"}, "x": 1}
    )
    page = as_role("proposer").get(url("proposal_revise", proposed.pk, 1))
    form = page.context["form"]
    assert form.initial["base_version"] == 4
    # The newest version with the proposal's edits on top; the proposal's value where
    # both changed, and that place listed.
    assert json.loads(form.initial["config"]) == {**OPUS, "x": 1}
    assert [c.path for c in page.context["kept"]] == ["/llm/model"]
    assert "changed a place the proposal changes too" in text(page)
    response = as_role("proposer").post(
        url("proposal_revise", proposed.pk, 1), revise_data({**OPUS, "x": 1}, base=4)
    )
    assert response.status_code == 302
    assert manager.get_proposal(1).base_version == 4
    assert manager.preview_proposal(1).clean


@pytest.mark.parametrize("role", ["other_proposer", "reviewer", "editor"])
def test_only_the_author_revises(as_role, proposed, role):
    client = as_role(role)
    response = client.get(url("proposal_revise", proposed.pk, 1), follow=True)
    assert messages_of(response) == [
        "Only the author of proposal 1 can revise it, while it is open."
    ]
    response = client.post(url("proposal_revise", proposed.pk, 1), revise_data(OPUS))
    assert response.status_code == 302
    assert proposed.version_manager.get_proposal(1).revision.number == 1


def test_revision_refusals_are_form_errors(as_role, proposed):
    client = as_role("proposer")
    bad = revise_data(OPUS)
    bad["config"] = "[1, 2"
    response = client.post(url("proposal_revise", proposed.pk, 1), bad)
    assert "Invalid JSON" in " ".join(response.context["form"].errors["config"])
    missing = client.post(url("proposal_revise", proposed.pk, 1), revise_data(OPUS, base=9))
    assert "which this config does not have" in " ".join(missing.context["form"].non_field_errors())
    proposed.version_manager.revise(1, OPUS, 2, created_by="proposer")  # another tab
    stale = client.post(url("proposal_revise", proposed.pk, 1), revise_data(OPUS, revision=1))
    assert "after this page showed revision 1" in " ".join(stale.context["form"].non_field_errors())
    assert proposed.version_manager.get_proposal(1).revision.number == 2


def test_a_closed_proposal_cannot_be_revised(as_role, proposed):
    client = as_role("proposer")
    proposed.version_manager.withdraw_proposal(1, by="proposer")
    response = client.get(url("proposal_revise", proposed.pk, 1), follow=True)
    assert "Only the author of proposal 1 can revise it, while it is open." in messages_of(response)
