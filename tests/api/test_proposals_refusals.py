"""Every refusal of the proposal API: missing permissions (403, with the rule's reason),
steps a proposal's status does not allow (409, with its status), labels that move only
by review, and REVIEW["all_writes"]. Nothing refused is ever written."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from config_versions.models import BotConfigLabelMove
from tests.api.proposals_setup import (
    BASE,
    PROPOSALS,
    SITE,
    URL,
    apply,
    approved,
    edited,
    history,
    make_team,
    propose,
    recorded,
    review,
    revise,
    start,
    withdraw,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.CONFIG_VERSIONS = SITE


@pytest.fixture
def team(client_for):
    return make_team(client_for)


@pytest.fixture
def started(bot):
    return start(bot)


def _unchanged(bot, steps: int) -> None:
    assert recorded() == steps
    assert history(bot) == [(1, BASE)]


# Permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("perms", [(), ("view_botconfig",), ("review_botconfig",)])
def test_proposing_needs_propose_or_change(client_for, started, perms):
    response = propose(client_for(*perms), edited(model="claude"))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You may not propose changes (permission propose_botconfig)."
    }
    _unchanged(started, 0)
    assert propose(client_for("change_botconfig"), edited(model="x")).status_code == 201


def test_the_refusal_comes_before_the_lookup(client_for, db):
    # No config named "nope": someone who may not propose learns nothing of it.
    nobody = client_for("view_botconfig")
    assert nobody.post("/api/configs/nope/proposals/", {}, format="json").status_code == 403
    reviewer = client_for("view_botconfig", "review_botconfig")
    assert reviewer.post("/api/configs/nope/proposals/", {}, format="json").status_code == 403
    assert (
        nobody.post("/api/configs/nope/proposals/1/reviews/", {}, format="json").status_code == 403
    )


def test_anonymous_may_do_nothing(team, started):
    propose(team.author, edited(model="claude"))
    anonymous = APIClient()
    for url, body in [
        (PROPOSALS, {"config": {}, "base_version": 1}),
        (f"{PROPOSALS}1/reviews/", {"decision": "approve"}),
        (f"{PROPOSALS}1/apply/", {}),
        (f"{PROPOSALS}1/withdraw/", {}),
        (f"{PROPOSALS}1/revisions/", {"config": {}, "base_version": 1}),
    ]:
        assert anonymous.post(url, body, format="json").status_code in (401, 403), url
    for url in (PROPOSALS, f"{PROPOSALS}1/"):
        assert anonymous.get(url).status_code in (401, 403)
    _unchanged(started, 1)


def test_reading_needs_view(client_for, team, started):
    propose(team.author, edited(model="claude"))
    reviewer_without_view = client_for("review_botconfig", "propose_botconfig")
    assert reviewer_without_view.get(PROPOSALS).status_code == 403
    assert reviewer_without_view.get(f"{PROPOSALS}1/").status_code == 403


@pytest.mark.parametrize("who", ["author", "editor", "lead", "viewer"])
def test_reviewing_needs_review_botconfig(team, started, who):
    propose(team.other_author, edited(model="claude"))
    response = review(getattr(team, who), 1)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You may not review proposals (permission review_botconfig)."
    }
    _unchanged(started, 1)


def test_self_approval_is_refused(client_for, started):
    both = client_for("view_botconfig", "propose_botconfig", "review_botconfig", username="sam")
    propose(both, edited(model="claude"))
    for decision in ("approve", "reject"):
        response = review(both, 1, decision)
        assert response.status_code == 403
        assert response.json() == {"detail": "You wrote proposal 1: someone else must review it."}
    _unchanged(started, 1)


def test_self_approval_where_the_site_allows_it(client_for, started, settings):
    settings.CONFIG_VERSIONS = {**SITE, "REVIEW": {"allow_self_approval": True}}
    both = client_for("view_botconfig", "propose_botconfig", "review_botconfig", username="sam")
    propose(both, edited(model="claude"))
    assert review(both, 1).json()["status"] == "approved"


def test_revising_someone_elses_proposal_is_refused(team, started):
    propose(team.author, edited(model="claude"))
    response = revise(team.other_author, 1, edited(model="x"))
    assert response.status_code == 403
    assert "Only the author of proposal 1 (ann) may revise it" in response.json()["detail"]
    response = revise(team.reviewer, 1, edited(model="x"))
    assert response.status_code == 403  # no propose permission at all
    _unchanged(started, 1)


@pytest.mark.parametrize("who", ["author", "reviewer", "viewer"])
def test_applying_needs_change(team, started, who):
    number = approved(team, edited(model="claude"))
    response = apply(getattr(team, who), number)
    assert response.status_code == 403
    _unchanged(started, 2)


def test_applying_to_a_protected_label_needs_promote_protected(team, started):
    number = approved(team, edited(model="claude"), label="production")
    response = apply(team.editor, number)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Proposal 1 moves label 'production': 'production' is a protected label: "
        "moving it needs the permission promote_protected_botconfig."
    }
    _unchanged(started, 2)
    assert BotConfigLabelMove.objects.count() == 0
    assert apply(team.lead, number).status_code == 201


def test_applying_to_a_label_needs_promote(client_for, team, started):
    number = approved(team, edited(model="claude"), label="staging")
    changer = client_for("view_botconfig", "change_botconfig")
    response = apply(changer, number)
    assert response.status_code == 403
    assert "You may not move labels (permission promote_botconfig)." in response.json()["detail"]
    _unchanged(started, 2)
    assert apply(changer, approved(team, edited(model="x"))).status_code == 201


@pytest.mark.parametrize("who", ["other_author", "reviewer", "viewer"])
def test_withdrawing_is_for_the_author_or_an_editor(team, started, who):
    propose(team.author, edited(model="claude"))
    response = withdraw(getattr(team, who), 1)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the author of proposal 1 or an editor may withdraw it."
    }
    _unchanged(started, 1)


@pytest.mark.parametrize("perms", [(), ("view_botconfig",)])
def test_the_rules_hold_whatever_the_sites_permission_classes(
    client_for, team, started, settings, perms
):
    settings.CONFIG_VERSIONS = {**SITE, "API_PERMISSION_CLASSES": []}
    number = approved(team, edited(model="claude"))
    stranger = client_for(*perms)
    assert propose(stranger, edited(model="x")).status_code == 403
    assert review(stranger, number).status_code == 403
    assert apply(stranger, number).status_code == 403
    assert withdraw(stranger, number).status_code == 403
    assert revise(stranger, number, edited(model="x")).status_code == 403
    _unchanged(started, 2)


# Statuses ----------------------------------------------------------------------------


def test_apply_before_approval_is_409(team, started):
    propose(team.author, edited(model="claude"))
    response = apply(team.lead, 1)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Proposal 1 needs 1 approval(s) of its revision 1; it has 0.",
        "status": "open",
    }
    _unchanged(started, 1)


def test_apply_of_a_rejected_proposal_is_409(team, started):
    number = approved(team, edited(model="claude"))
    review(team.second_reviewer, number, "reject")
    response = apply(team.lead, number)
    assert response.status_code == 409
    assert response.json() == {"detail": "Proposal 1 was rejected by rob.", "status": "rejected"}
    _unchanged(started, 3)


def test_double_apply_is_409(team, started):
    number = approved(team, edited(model="claude"), label="staging")
    assert apply(team.lead, number).status_code == 201
    steps, moves = recorded(), BotConfigLabelMove.objects.count()
    response = apply(team.lead, number)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Proposal 1 is already applied as version 2.",
        "status": "applied",
    }
    assert (recorded(), BotConfigLabelMove.objects.count()) == (steps, moves)
    assert started.versions.count() == 2


def test_withdraw_then_apply_is_409(team, started):
    number = approved(team, edited(model="claude"))
    assert withdraw(team.author, number).status_code == 200
    response = apply(team.lead, number)
    assert response.status_code == 409
    assert response.json() == {"detail": "Proposal 1 was withdrawn.", "status": "withdrawn"}
    _unchanged(started, 3)


@pytest.mark.parametrize(
    ("step", "word"),
    [
        (lambda team: review(team.reviewer, 1), "reviewed"),
        (lambda team: withdraw(team.author, 1), "withdrawn"),
        (lambda team: revise(team.author, 1, edited(model="x")), "revised"),
    ],
)
def test_no_step_after_the_close(team, started, step, word):
    number = approved(team, edited(model="claude"))
    apply(team.lead, number)
    steps = recorded()
    response = step(team)
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Proposal 1 is already applied as version 2; it cannot be {word}.",
        "status": "applied",
    }
    assert recorded() == steps


def test_approval_of_an_older_revision_is_409(team, started):
    propose(team.author, edited(model="claude"))
    revise(team.author, 1, edited(model="claude-2"))
    response = review(team.reviewer, 1, revision=1)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Proposal 1 was revised: revision 1 is no longer current (revision 2 is); "
        "review what it proposes now.",
        "status": "open",
    }
    assert recorded() == 2
    assert review(team.reviewer, 1, revision=2).status_code == 201


def test_an_approval_of_revision_1_does_not_apply_revision_2(team, started):
    number = approved(team, edited(model="claude"))
    revise(team.author, number, edited(model="claude-2"))
    assert apply(team.lead, number).json()["status"] == "open"
    assert history(started) == [(1, BASE)]


def test_unknown_proposals_and_configs_are_404(team, started):
    for response in (
        team.viewer.get(f"{PROPOSALS}9/"),
        review(team.reviewer, 9),
        apply(team.lead, 9),
        withdraw(team.author, 9),
        revise(team.author, 9, edited(model="x")),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Proposal 9 not found."}
    for url in ("/api/configs/nope/proposals/", "/api/configs/nope/proposals/1/"):
        assert team.viewer.get(url).status_code == 404
    assert team.author.post("/api/configs/nope/proposals/", {}, format="json").status_code == 404


def test_an_archived_config_is_410(team, started):
    number = approved(team, edited(model="claude"))
    started.archive(by="admin", reason="Retired")
    steps = recorded()
    for response in (
        team.viewer.get(PROPOSALS),
        team.viewer.get(f"{PROPOSALS}{number}/"),
        propose(team.author, edited(model="x")),
        review(team.second_reviewer, number),
        apply(team.lead, number),
        withdraw(team.author, number),
        revise(team.author, number, edited(model="x")),
    ):
        assert response.status_code == 410
    assert recorded() == steps


def test_no_put_patch_delete(admin_api, team, started):
    propose(team.author, edited(model="claude"))
    for url in (PROPOSALS, f"{PROPOSALS}1/", f"{PROPOSALS}1/apply/", f"{PROPOSALS}1/reviews/"):
        for method in ("put", "patch", "delete"):
            assert getattr(admin_api, method)(url, {}, format="json").status_code == 405
    assert admin_api.post(f"{PROPOSALS}1/", {}, format="json").status_code == 405
    assert admin_api.get(f"{PROPOSALS}1/apply/").status_code == 405
    assert recorded() == 1


# Labels that move only by review ------------------------------------------------------


def test_a_review_label_moved_directly_is_409_naming_proposals(team, started):
    started.version_manager.update(edited(model="claude"))
    response = team.lead.put(f"{URL}labels/production/", {"version": 2}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["label"] == "production"
    assert body["proposals"] == f"http://testserver{PROPOSALS}"
    assert body["detail"].startswith(
        "Label 'production' moves only by applying an approved proposal"
    )
    assert f"POST http://testserver{PROPOSALS}" in body["detail"]
    assert BotConfigLabelMove.objects.count() == 0
    # Staging is not reviewed: it moves directly.
    assert team.lead.put(f"{URL}labels/staging/", {"version": 2}, format="json").status_code == 200


def test_a_review_label_still_refuses_those_who_may_not_move_it_first(team, started):
    response = team.viewer.put(f"{URL}labels/production/", {"version": 1}, format="json")
    assert response.status_code == 403


def test_an_unprotected_review_label_is_409_too(team, started, settings):
    settings.CONFIG_VERSIONS = {**SITE, "REVIEW": {"labels": ["staging", "production"]}}
    response = team.editor.put(f"{URL}labels/staging/", {"version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["label"] == "staging"
    number = approved(team, edited(model="claude"), label="staging")
    assert apply(team.editor, number).json()["label"] == {"name": "staging", "version": 2}


# REVIEW["all_writes"] -----------------------------------------------------------------


@pytest.fixture
def all_writes(settings):
    settings.CONFIG_VERSIONS = {**SITE, "REVIEW": {"labels": ["production"], "all_writes": True}}


def test_all_writes_refuses_a_plain_put_without_bypass(team, started, all_writes):
    response = team.editor.put(URL, {"config": edited(model="claude")}, format="json")
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail.startswith("Changes to bot configs go through review here: propose the change")
    assert detail.endswith(f"Propose it: POST http://testserver{PROPOSALS}")
    assert history(started) == [(1, BASE)]


def test_all_writes_refuses_a_rollback_without_bypass(client_for, started, all_writes):
    started.version_manager.update(edited(model="claude"))
    editor = client_for("view_botconfig", "change_botconfig", "rollback_botconfig")
    response = editor.post(f"{URL}rollback/", {"to_version": 1}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].endswith(f"Propose it: POST http://testserver{PROPOSALS}")
    assert started.versions.count() == 2


def test_all_writes_allows_bypass(client_for, started, all_writes):
    bypass = client_for(
        "view_botconfig", "change_botconfig", "rollback_botconfig", "bypass_review_botconfig"
    )
    assert bypass.put(URL, {"config": edited(model="claude")}, format="json").status_code == 200
    assert bypass.post(f"{URL}rollback/", {"to_version": 1}, format="json").status_code == 201
    assert started.versions.count() == 3


def test_all_writes_leaves_the_review_path_open(team, started, all_writes):
    number = approved(team, edited(model="claude"))
    assert apply(team.editor, number).status_code == 201
    assert history(started)[-1] == (2, edited(model="claude"))


def test_without_all_writes_a_plain_put_needs_no_bypass(team, started):
    assert (
        team.editor.put(URL, {"config": edited(model="claude")}, format="json").status_code == 200
    )


def test_all_writes_refusal_comes_before_the_lookup(client_for, db, all_writes):
    editor = client_for("view_botconfig", "change_botconfig", "rollback_botconfig")
    assert editor.put("/api/configs/nope/", {"config": {}}, format="json").status_code == 403
    assert editor.post("/api/configs/nope/rollback/", {}, format="json").status_code == 403


def test_a_proposal_whose_label_the_site_stopped_declaring_is_not_applied(team, started, settings):
    number = approved(team, edited(model="claude"), label="staging")
    settings.CONFIG_VERSIONS = {**SITE, "LABELS": {"production": {"protected": True}}}
    response = apply(team.lead, number)
    assert response.status_code == 409, response.content
    assert "no longer declares" in response.json()["detail"]
    assert response.json()["status"] == "approved"
    _unchanged(started, 2)
    assert not BotConfigLabelMove.objects.exists()


def test_apply_of_a_revision_the_caller_did_not_see_is_refused(team, started):
    number = approved(team, edited(model="claude"))
    assert revise(team.author, number, edited(model="claude-2")).status_code == 201
    assert review(team.reviewer, number).status_code == 201
    response = apply(team.lead, number, revision=1)
    assert response.status_code == 409, response.content
    assert "no longer current" in response.json()["detail"]
    assert withdraw(team.lead, number, revision=1).status_code == 409
    assert history(started) == [(1, BASE)]
    assert apply(team.lead, number, revision=2).status_code == 201
