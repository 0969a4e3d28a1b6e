"""The proposal endpoints, each step as a user of its role takes it: propose, list, read
with diffs and merge preview, review, revise, apply (with its label) and withdraw."""

from __future__ import annotations

import pytest

from config_versions.models import BotConfigLabelMove, BotConfigProposal
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


def test_a_proposal_is_answered_201_with_its_body_and_writes_no_version(team, started):
    response = propose(
        team.author, edited(model="claude"), 1, reason="Try Claude", label="production"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    url = f"http://testserver{PROPOSALS}1/"
    assert response["Location"] == url
    assert {
        k: v for k, v in body.items() if k not in ("created_at", "updated_at", "revisions")
    } == {
        "id": 1,
        "status": "open",
        "author": "ann",
        "label": "production",
        "base_version": 1,
        "revision": 1,
        "reason": "Try Claude",
        "config": edited(model="claude"),
        "approvals": [],
        "required_approvals": 1,
        "reviews": [],
        "applied_version": None,
        "url": url,
    }
    [first] = body["revisions"]
    assert first == {
        "number": 1,
        "base_version": 1,
        "reason": "Try Claude",
        "submitted_by": "ann",
        "created_at": body["created_at"],
    }
    assert body["created_at"] == body["updated_at"]
    assert body["created_at"].endswith("Z")
    assert history(started) == [(1, BASE)]
    assert team.author.get(url).json()["id"] == 1


def test_without_label_or_reason(team, started):
    response = propose(team.author, edited(model="claude"))
    assert response.status_code == 201
    assert (response.json()["label"], response.json()["reason"]) == (None, "")
    assert propose(team.author, edited(model="x"), label=None).json()["label"] is None


def test_numbers_go_up_per_config(team, started):
    assert [propose(team.author, edited(n=n)).json()["id"] for n in range(3)] == [1, 2, 3]


def test_the_list_newest_first_filtered_by_status(team, started):
    for n in range(3):
        assert propose(team.author, edited(n=n)).status_code == 201
    assert review(team.reviewer, 2).status_code == 201
    assert withdraw(team.author, 3).status_code == 200
    listed = team.viewer.get(PROPOSALS)
    assert listed.status_code == 200
    page = listed.json()
    assert (page["count"], page["next"], page["previous"]) == (3, None, None)
    assert [(p["id"], p["status"]) for p in page["results"]] == [
        (3, "withdrawn"),
        (2, "approved"),
        (1, "open"),
    ]
    for status, ids in {
        "open": [1],
        "approved": [2],
        "withdrawn": [3],
        "applied": [],
        "rejected": [],
    }.items():
        found = team.viewer.get(PROPOSALS, {"status": status}).json()
        assert [p["id"] for p in found["results"]] == ids, status
        assert found["count"] == len(ids)


def test_list_entries_are_the_proposal_bodies(team, started):
    number = approved(team, edited(model="claude"), reason="r", label="staging")
    [entry] = team.viewer.get(PROPOSALS).json()["results"]
    detail = team.viewer.get(f"{PROPOSALS}{number}/").json()
    assert entry == {k: v for k, v in detail.items() if k in entry}
    assert set(detail) - set(entry) == {
        "current_version",
        "diff_from_base",
        "diff_from_current",
        "merge_preview",
        "label_version",
        "diff_from_label",
    }


def test_a_release_shows_what_its_label_would_get_including_newer_unreviewed_work(team, started):
    """Applying merges onto the newest version, so a release carries every edit made
    since its base: the detail shows the label's followers what they would get."""
    number = approved(team, edited(model="claude"), reason="Claude", label="production")
    detail = team.viewer.get(f"{PROPOSALS}{number}/").json()
    assert detail["label_version"] is None  # production not set yet
    assert detail["diff_from_label"] is None
    release = approved(team, BASE, reason="release v1", label="production")
    assert apply(team.lead, release).json()["label"] == {"name": "production", "version": 1}
    started.version_manager.update(edited(prompt="Be brief."), created_by="ed")  # v2
    detail = team.viewer.get(f"{PROPOSALS}{number}/").json()
    assert detail["label_version"] == 1
    # The proposal's own edit, and the newer prompt no one reviewed that it carries.
    assert {c["path"] for c in detail["diff_from_label"]["changes"]} == {"/model", "/prompt"}
    # Its own config, made before the prompt changed, differs from the newest in both.
    assert {c["path"] for c in detail["diff_from_current"]["changes"]} == {"/model", "/prompt"}
    assert detail["merge_preview"]["merged"] == edited(model="claude", prompt="Be brief.")
    assert apply(team.lead, number).status_code == 201
    closed = team.viewer.get(f"{PROPOSALS}{number}/").json()
    assert closed["status"] == "applied"
    assert closed["merge_preview"] is None
    assert closed["diff_from_label"] is None


def test_the_list_is_paginated(team, started, settings):
    settings.CONFIG_VERSIONS = {**SITE, "API_PAGE_SIZE": 2}
    for n in range(5):
        propose(team.author, edited(n=n))
    first = team.viewer.get(PROPOSALS).json()
    assert [p["id"] for p in first["results"]] == [5, 4]
    assert first["count"] == 5
    last = team.viewer.get(PROPOSALS, {"page": 3}).json()
    assert [p["id"] for p in last["results"]] == [1]
    assert team.viewer.get(PROPOSALS, {"page": 4}).status_code == 404


def test_the_list_reads_in_a_fixed_number_of_queries(team, started, django_assert_max_num_queries):
    for n in range(6):
        propose(team.author, edited(n=n))
        review(team.reviewer, n + 1, comment=f"c{n}")
    # The token with its user, the user's and its groups' permissions, the config, the
    # count, the page, and the page's steps: the same however many proposals it shows.
    with django_assert_max_num_queries(7):
        response = team.viewer.get(PROPOSALS)
    assert len(response.json()["results"]) == 6


def test_a_config_with_no_proposals(team, started):
    page = team.viewer.get(PROPOSALS).json()
    assert (page["count"], page["results"]) == (0, [])


def test_the_detail_shows_both_diffs_and_the_merge_preview(team, started):
    number = approved(team, edited(model="claude"))
    started.version_manager.update(edited(prompt="Be brief."), created_by="admin")
    response = team.viewer.get(f"{PROPOSALS}{number}/")
    assert response.status_code == 200
    body = response.json()
    assert body["current_version"] == 2
    assert body["diff_from_base"]["changes"] == [
        {"op": "replace", "path": "/model", "from": "gpt-4", "to": "claude"}
    ]
    assert body["diff_from_base"]["changed"] == {"model": {"from": "gpt-4", "to": "claude"}}
    assert {c["path"] for c in body["diff_from_current"]["changes"]} == {"/model", "/prompt"}
    assert body["merge_preview"] == {
        "onto_version": 2,
        "clean": True,
        "merged": edited(model="claude", prompt="Be brief."),
        "conflicts": [],
    }


def test_the_detail_shows_conflicts(team, started):
    number = approved(team, edited(model="claude", prompt="Be curt."))
    started.version_manager.update(edited(model="gpt-5", prompt="Be brief."))
    preview = team.viewer.get(f"{PROPOSALS}{number}/").json()["merge_preview"]
    assert preview == {
        "onto_version": 2,
        "clean": False,
        "merged": None,
        "conflicts": ["/model", "/prompt"],
    }


def test_a_review_is_answered_201_with_the_proposal(team, started):
    propose(team.author, edited(model="claude"))
    response = review(team.reviewer, 1, comment="Looks right", revision=1)
    assert response.status_code == 201, response.content
    assert response["Location"] == f"http://testserver{PROPOSALS}1/"
    body = response.json()
    assert (body["status"], body["approvals"]) == ("approved", ["rita"])
    [given] = body["reviews"]
    assert {k: given[k] for k in ("reviewer", "decision", "comment", "revision")} == {
        "reviewer": "rita",
        "decision": "approve",
        "comment": "Looks right",
        "revision": 1,
    }
    rejected = review(team.second_reviewer, 1, "reject", comment="No").json()
    assert (rejected["status"], rejected["approvals"]) == ("rejected", ["rita"])
    # A reviewer's later word replaces their earlier one.
    again = review(team.second_reviewer, 1, "approve").json()
    assert (again["status"], again["approvals"]) == ("approved", ["rita", "rob"])
    assert len(again["reviews"]) == 3


def test_two_approvals_required(team, started, settings):
    settings.CONFIG_VERSIONS = {
        **SITE,
        "REVIEW": {"labels": ["production"], "required_approvals": 2},
    }
    number = approved(team, edited(model="claude"))
    body = team.viewer.get(f"{PROPOSALS}{number}/").json()
    assert (body["status"], body["required_approvals"]) == ("open", 2)
    assert apply(team.lead, number).status_code == 409
    assert review(team.second_reviewer, number).json()["status"] == "approved"
    assert apply(team.lead, number).status_code == 201


def test_a_revision_is_201_keeps_the_earlier_and_clears_approvals(team, started):
    number = approved(team, edited(model="claude"), reason="first")
    started.version_manager.update(edited(prompt="Be brief."))
    response = revise(
        team.author, number, edited(model="claude-2", prompt="Be brief."), 2, reason="second"
    )
    assert response.status_code == 201, response.content
    assert response["Location"] == f"http://testserver{PROPOSALS}{number}/"
    body = response.json()
    assert (body["status"], body["approvals"], body["revision"]) == ("open", [], 2)
    assert (body["base_version"], body["reason"]) == (2, "second")
    assert body["config"] == edited(model="claude-2", prompt="Be brief.")
    assert [(r["number"], r["base_version"], r["reason"]) for r in body["revisions"]] == [
        (1, 1, "first"),
        (2, 2, "second"),
    ]
    assert len(body["reviews"]) == 1  # kept, but for revision 1 it no longer counts
    assert apply(team.lead, number).status_code == 409
    assert review(team.reviewer, number).json()["approvals"] == ["rita"]


def test_apply_writes_the_version_and_moves_the_label(team, started):
    number = approved(team, edited(model="claude"), reason="Try Claude", label="production")
    moves = BotConfigLabelMove.objects.count()
    response = apply(team.lead, number, reason="Release Claude")
    assert response.status_code == 201, response.content
    assert response["Location"] == f"http://testserver{URL}versions/2/"
    body = response.json()
    assert body["proposal"]["status"] == "applied"
    assert body["proposal"]["applied_version"] == 2
    assert body["version"] == team.viewer.get(f"{URL}versions/2/").json()
    assert body["version"]["config"] == edited(model="claude")
    assert body["version"]["reason"] == "Release Claude"
    assert body["version"]["created_by"] == "lea"
    assert body["version"]["previous_version"] == 1
    assert body["version"]["metadata"] == {"proposal": 1, "revision": 1, "approvers": ["rita"]}
    assert body["version_created"] is True
    assert body["label"] == {"name": "production", "version": 2}
    assert body["merged_onto"] is None
    assert history(started) == [(1, BASE), (2, edited(model="claude"))]
    assert BotConfigLabelMove.objects.count() == moves + 1
    assert team.viewer.get(URL, {"label": "production"}).json()["version"] == 2
    [move] = team.viewer.get(f"{URL}labels/production/history/").json()["results"]
    assert (move["to_version"], move["moved_by"]) == (2, "lea")
    assert move["reason"] == "Proposal 1: Try Claude"


def test_apply_without_a_reason_takes_the_proposals(team, started):
    number = approved(team, edited(model="claude"), reason="Try Claude")
    body = apply(team.editor, number).json()
    assert body["version"]["reason"] == "Try Claude"
    assert body["label"] is None
    assert BotConfigLabelMove.objects.count() == 0


def test_apply_of_what_is_already_current_writes_no_version(team, started):
    number = approved(team, edited(model="claude"), label="staging")
    started.version_manager.update(edited(model="claude"))
    response = apply(team.editor, number)
    assert response.status_code == 201
    body = response.json()
    assert body["version_created"] is False
    assert body["version"]["version"] == 2
    assert body["proposal"]["applied_version"] == 2
    assert body["label"] == {"name": "staging", "version": 2}
    assert started.versions.count() == 2


def test_withdraw_is_200_with_the_proposal(team, started):
    propose(team.author, edited(model="claude"))
    response = withdraw(team.author, 1, reason="Not needed après tout")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    # An editor may withdraw someone else's proposal.
    propose(team.author, edited(model="x"))
    assert withdraw(team.editor, 2).json()["status"] == "withdrawn"


def test_every_step_is_recorded_and_summarised(team, started):
    number = approved(team, edited(model="claude"), label="production")
    revise(team.author, number, edited(model="claude-2"))
    review(team.reviewer, number)
    apply(team.lead, number)
    assert recorded() == 5  # submitted, reviewed, revised, reviewed, applied
    summary = BotConfigProposal.objects.get()
    assert (summary.status, summary.revision, summary.applied_version) == ("applied", 2, 2)


@pytest.mark.parametrize(
    "value",
    [1e16, 1e300, -0.0, 2**53 + 1, 10**30, 0.1, 1.5e-300],
)
def test_numbers_are_kept_as_sent_through_apply(team, started, value):
    config = edited(limits={"tokens": value})
    made = propose(team.author, config)
    assert made.status_code == 201, made.content
    kept = made.json()["config"]["limits"]["tokens"]
    assert (type(kept), kept) == (type(value), value)
    number = made.json()["id"]
    read = team.viewer.get(f"{PROPOSALS}{number}/").json()["config"]["limits"]["tokens"]
    assert (type(read), read) == (type(value), value)
    review(team.reviewer, number)
    written = apply(team.editor, number).json()["version"]["config"]["limits"]["tokens"]
    assert (type(written), written) == (type(value), value)
    stored = team.viewer.get(f"{URL}versions/2/").json()["config"]["limits"]["tokens"]
    assert (type(stored), stored) == (type(value), value)
    if value == 0.0:
        assert str(stored) == str(value)  # -0.0 keeps its sign


def test_unicode_everywhere(team, started):
    config = edited(prompt="Sois gentil 🙂 — 親切に", tools=["ünïcode", "\u200b"])
    made = propose(team.author, config, reason="Raison : 理由 🚀", label="staging")
    assert made.status_code == 201
    number = made.json()["id"]
    reviewed = review(team.reviewer, number, comment="Ça va ✓ 良い")
    assert reviewed.json()["reviews"][0]["comment"] == "Ça va ✓ 良い"
    applied = apply(team.editor, number).json()
    assert applied["version"]["config"] == config
    assert applied["version"]["reason"] == "Raison : 理由 🚀"
    assert team.viewer.get(URL).json()["config"] == config
