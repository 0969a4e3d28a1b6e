"""The demo's proposals: a realistic review history, and who may do what in it."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from rest_framework.test import APIClient

from config_versions import review
from config_versions.core.errors import MergeConflictError, ProposalStateError, ReviewRefusedError
from config_versions.models import BotConfig, BotConfigProposalEvent
from demo.data import BOTS, PEOPLE, apply_edits
from demo.management.commands.load_demo_configs import Command

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("example_settings")]

GROUP = {p.username: p.group for p in PEOPLE}


@pytest.fixture
def demo():
    out = StringIO()
    call_command(Command(), stdout=out)
    return out.getvalue()


def manager_of(slug: str):
    return BotConfig.objects.get(slug=slug).version_manager


def user(name: str):
    return get_user_model().objects.get(username=name)


def test_the_load_says_what_each_bot_has(demo):
    assert "Proposals of support-bot: 1 open, 1 approved, 6 applied" in demo
    assert "Proposals of docs-assistant: 1 approved, 1 rejected, 4 applied, 1 withdrawn" in demo
    assert "Proposals of ops-agent: 1 open, 3 applied" in demo


def test_the_site_has_one_proposal_of_every_kind_waiting_first(demo):
    rows = list(review.site_proposals())
    waiting = [(r.bot_config.slug, r.number, r.status) for r in rows if r.status != "applied"]

    assert sorted(waiting) == [
        ("docs-assistant", 5, "withdrawn"),
        ("docs-assistant", 6, "rejected"),
        ("docs-assistant", 7, "approved"),
        ("ops-agent", 4, "open"),
        ("support-bot", 7, "approved"),
        ("support-bot", 8, "open"),
    ]
    # Open, approved and rejected (still actionable) come before the closed ones.
    actionable = [r.status in ("open", "approved", "rejected") for r in rows]
    assert actionable == sorted(actionable, reverse=True)
    assert all(r.label == "production" for r in rows)


def test_production_moves_only_by_proposals_applied_by_leads_approved_by_someone_else(demo):
    for slug in ("support-bot", "docs-assistant", "ops-agent"):
        for proposal in manager_of(slug).proposals():
            reviewers = {r.reviewer for r in proposal.reviews}
            assert proposal.author not in reviewers, proposal  # never their own
            assert {GROUP[name] for name in reviewers} <= {"Leads", "Reviewers"}
            if proposal.status == "applied":
                assert GROUP[proposal.closed_by] == "Leads"
                assert proposal.approvers
            times = [e.timestamp for e in proposal.events]
            assert times == sorted(times)
    # Lena only proposes: no version, review or label move is hers.
    lena = [e for e in BotConfigProposalEvent.objects.filter(actor="lena")]
    assert [e.kind for e in lena] == ["submitted"]
    assert not any(
        v.created_by == "lena"
        for b in BotConfig.objects.all()
        for v in b.version_manager.get_history()
    )


def test_the_refund_policy_was_merged_onto_the_rollback(demo):
    manager = manager_of("support-bot")
    proposal = manager.get_proposal(5)
    v5, v6, v7 = (manager.get_version(n) for n in (5, 6, 7))

    assert (proposal.status, proposal.base_version, proposal.merged_onto) == ("applied", 5, 6)
    assert proposal.applied_version == 7
    assert v7.metadata == {
        "proposal": 5,
        "revision": 1,
        "approvers": ["jonas"],
        "merged_from": 5,
        "merged_onto": 6,
    }
    # Its one edit, on top of the rollback: the summaries stay out.
    step = BOTS[0].steps[5]
    assert v7.config == apply_edits(v6.config, step.edits)
    assert v7.config["memory"] != v5.config["memory"]
    assert manager.get_label("production") == 7


def test_an_approved_proposal_now_conflicts_with_newer_work(demo):
    bot = BotConfig.objects.get(slug="support-bot")
    view = review.describe(bot, 7)
    before = bot.version_manager.current_version

    assert view.proposal.status == "approved"
    assert (view.proposal.base_version, view.current_version) == (7, 9)
    assert view.preview.conflicts == ["/llm/max_tokens", "/prompts/system"]
    assert view.preview.merged is None
    with pytest.raises(MergeConflictError) as caught:
        review.apply(bot, user("priya"), 7)
    assert caught.value.conflicts == ["/llm/max_tokens", "/prompts/system"]
    assert bot.version_manager.current_version == before
    assert bot.version_manager.get_proposal(7).status == "approved"


def test_the_open_ones_merge_cleanly(demo):
    ops = review.describe(BotConfig.objects.get(slug="ops-agent"), 4)
    lena = review.describe(BotConfig.objects.get(slug="support-bot"), 8)

    # Made from version 6, with version 7 written since: it merges onto 7.
    assert (ops.proposal.base_version, ops.preview.onto_version) == (6, 7)
    assert ops.preview.merged is not None
    assert ops.preview.merged["agent"]["max_iterations"] == 12
    assert ops.preview.merged["escalation"] == {"after_minutes": 10, "page": "secondary-oncall"}
    assert (lena.proposal.author, lena.proposal.status) == ("lena", "open")
    assert lena.diff_from_base["changes"] == [
        {"op": "add", "path": "/languages/3", "from": None, "to": "es"}
    ]


def test_the_rejected_and_withdrawn_ones_say_why(demo):
    manager = manager_of("docs-assistant")
    rejected, withdrawn = manager.get_proposal(6), manager.get_proposal(5)

    (rejection,) = rejected.reviews
    assert (rejection.reviewer, rejection.decision) == ("jonas", "reject")
    assert "made-up API names" in rejection.comment
    assert withdrawn.closed_by == "jonas"
    assert withdrawn.events[-1].data["reason"].startswith("p95 doubled on staging")


def test_the_approved_one_is_applied_by_a_lead_not_by_its_reviewer(demo):
    bot = BotConfig.objects.get(slug="docs-assistant")

    with pytest.raises(PermissionDenied, match="permission to change bot configs"):
        review.apply(bot, user("amara"), 7)  # approved it; may not apply
    with pytest.raises(PermissionDenied, match="promote_protected_botconfig"):
        review.apply(bot, user("marcus"), 7)  # an Editor: production is protected
    applied = review.apply(bot, user("priya"), 7)

    assert (applied.version.version, applied.merged_onto) == (10, None)
    assert applied.version.config["citations"]["max_sources"] == 2
    assert applied.move is not None
    assert (applied.move.label, applied.move.from_version, applied.move.to_version) == (
        "production",
        7,
        10,
    )
    with pytest.raises(ProposalStateError, match="already applied as version 10"):
        review.apply(bot, user("jonas"), 7)


def test_each_role_gets_what_its_group_says(demo):
    bot = BotConfig.objects.get(slug="support-bot")
    lena, amara, marcus, priya = (user(n) for n in ("lena", "amara", "marcus", "priya"))

    assert review.may_only_propose(lena)
    assert not review.may_only_propose(marcus)
    assert review.review_refusal(lena) is not None
    assert review.review_refusal(amara) is None
    assert review.review_refusal(marcus) is not None
    assert review.propose_refusal(amara) is not None
    with pytest.raises(PermissionDenied, match="review_botconfig"):
        review.review(bot, lena, 8, "approve")
    v9 = bot.version_manager.get_version(9)
    assert v9 is not None
    mine = review.submit(bot, priya, v9.config, 9, reason="Release v9")
    with pytest.raises(ReviewRefusedError, match="someone else must review it"):
        review.review(bot, priya, mine.id, "approve")
    assert bot.version_manager.get_proposal(mine.id).reviews == ()


def test_a_new_proposal_goes_through_as_the_readme_shows(demo):
    bot = BotConfig.objects.get(slug="support-bot")
    lena, amara, priya = user("lena"), user("amara"), user("priya")
    current = bot.version_manager.get_version(9)
    config = apply_edits(current.config, {"/llm/temperature": 0.1})

    proposal = review.submit(bot, lena, config, 9, reason="Calmer answers", label="production")
    review.review(bot, amara, proposal.id, "approve", comment="Calmer is better")
    applied = review.apply(bot, priya, proposal.id)

    assert proposal.id == 9
    assert (applied.version.version, applied.version.created_by) == (10, "priya")
    assert bot.version_manager.get_label("production") == 10


@pytest.mark.urls("example_project.urls")
def test_the_readme_walkthrough_answers_as_shown(demo):
    """Each refusal and each answer the README's curl walkthrough shows, in its words."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    walkthrough = readme[readme.index("A release through review, against a fresh") :]
    api = "/api/configs/support-bot"

    def as_(name: str) -> APIClient:
        client = APIClient(HTTP_HOST="127.0.0.1:8000")
        client.force_authenticate(user(name))
        return client

    def shown(response: Any) -> None:
        """The README shows this answer: its status line and its JSON, as sent."""
        reason = f"HTTP/1.1 {response.status_code} {response.reason_phrase}"
        assert reason in walkthrough
        assert response.content.decode() in walkthrough.replace("\n ", "")

    config = apply_edits(manager_of("support-bot").current_config or {}, {"/llm/temperature": 0.1})
    body = {
        "config": config,
        "base_version": 9,
        "reason": "Calmer answers: temperature 0.1",
        "label": "production",
    }
    proposed = as_("priya").post(f"{api}/proposals/", body, format="json")
    assert proposed.status_code == 201
    assert proposed["Location"] == "http://127.0.0.1:8000/api/configs/support-bot/proposals/9/"
    listed = as_("amara").get(f"{api}/proposals/?status=open").json()
    assert [(p["id"], p["author"]) for p in listed["results"]] == [(9, "priya"), (8, "lena")]
    detail = as_("amara").get(f"{api}/proposals/9/").json()
    change = {"op": "replace", "path": "/llm/temperature", "from": 0.2, "to": 0.1}
    assert detail["diff_from_base"]["changes"] == [change]
    assert detail["merge_preview"]["clean"] is True
    approve = {"decision": "approve"}
    shown(as_("priya").post(f"{api}/proposals/9/reviews/", approve, format="json"))
    shown(as_("lena").post(f"{api}/proposals/9/reviews/", approve, format="json"))
    shown(as_("priya").post(f"{api}/proposals/9/apply/", {}, format="json"))
    comment = {**approve, "comment": "Calmer reads better in the complaint chats", "revision": 1}
    approved = as_("amara").post(f"{api}/proposals/9/reviews/", comment, format="json")
    assert (approved.status_code, approved.json()["approvals"]) == (201, ["amara"])
    shown(as_("marcus").post(f"{api}/proposals/9/apply/", {}, format="json"))
    applied = as_("priya").post(f"{api}/proposals/9/apply/", {}, format="json")
    assert applied.status_code == 201
    assert (applied.json()["label"], applied.json()["merged_onto"]) == (
        {"name": "production", "version": 10},
        None,
    )
    shown(as_("priya").post(f"{api}/proposals/9/apply/", {}, format="json"))
    shown(as_("priya").post(f"{api}/proposals/7/apply/", {}, format="json"))
    moved = {"version": 9, "reason": "ship it"}
    shown(as_("priya").put(f"{api}/labels/production/", moved, format="json"))
