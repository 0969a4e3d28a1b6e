"""The demo's releases: staging moved directly, production only through review."""

from __future__ import annotations

import importlib
import time
from dataclasses import replace
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import override_settings

from config_versions import releases
from config_versions import review as site_review
from config_versions.core.errors import ReviewRequiredError
from config_versions.core.labels import LabelMove
from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigProposalEvent
from demo.data import (
    BOTS,
    GROUPS,
    PEOPLE,
    PROMOTE,
    PROMOTE_PROTECTED,
    PROPOSE,
    REVIEW,
    Proposed,
    Release,
)
from demo.management.commands.load_demo_configs import Command
from demo.timeline import Moment, Submitted, history_moments, timeline

pytestmark = pytest.mark.usefixtures("example_settings")

LEADS = {p.username for p in PEOPLE if p.group == "Leads"}
EDITORS = {p.username for p in PEOPLE if p.group == "Editors"}
LABELS = {"staging", "production"}


def load() -> str:
    out = StringIO()
    call_command(Command(), stdout=out)
    return out.getvalue()


def moves(slug: str) -> list[LabelMove]:
    """Every label move of ``slug``, oldest first."""
    return list(reversed(BotConfig.objects.get(slug=slug).version_manager.label_history()))


def story(slug: str) -> list[tuple[str, int | None, int, str | None, str]]:
    return [(m.label, m.from_version, m.to_version, m.created_by, m.reason) for m in moves(slug)]


def test_the_site_declares_staging_and_a_protected_reviewed_production():
    site = importlib.import_module("example_project.settings")

    labels = site.CONFIG_VERSIONS["LABELS"]

    assert list(labels) == ["staging", "production"]
    assert labels["production"]["protected"] is True
    assert not labels["staging"].get("protected", False)
    assert site.CONFIG_VERSIONS.get("DEFAULT_LABEL", "latest") == "latest"
    assert site.CONFIG_VERSIONS["REVIEW"] == {
        "required_approvals": 1,
        "allow_self_approval": False,
        "labels": ["production"],
        "all_writes": False,
    }


def test_the_demo_permissions_are_the_apps_own():
    assert f"config_versions.{PROMOTE}" == releases.PROMOTE
    assert f"config_versions.{PROMOTE_PROTECTED}" == releases.PROMOTE_PROTECTED
    assert f"config_versions.{PROPOSE}" == site_review.PROPOSE
    assert f"config_versions.{REVIEW}" == site_review.REVIEW
    assert PROMOTE in GROUPS["Editors"].permissions
    assert PROMOTE_PROTECTED not in GROUPS["Editors"].permissions
    assert {PROMOTE, PROMOTE_PROTECTED, REVIEW} <= set(GROUPS["Leads"].permissions)
    assert PROMOTE not in GROUPS["Bots"].permissions
    # Proposers and Reviewers write nothing themselves.
    for group in ("Proposers", "Reviewers"):
        assert not {"change_botconfig", PROMOTE} & set(GROUPS[group].permissions), group


@pytest.mark.django_db
def test_every_bot_goes_to_staging_then_to_production_through_review():
    out = load()

    assert "Released support-bot: production at v7, staging at v9 (15 label moves)" in out
    assert "Released docs-assistant: production at v7, staging at v9 (11 label moves)" in out
    assert "Released ops-agent: production at v4, staging at v7 (9 label moves)" in out
    for demo in BOTS:
        bot = BotConfig.objects.get(slug=demo.slug)
        manager = bot.version_manager
        found = moves(demo.slug)
        assert [m.sequence for m in found] == list(range(1, len(found) + 1))
        assert all(m.reason for m in found)
        applied = {p.id: p for p in manager.proposals("applied")}
        staged: set[int] = set()
        for move in found:
            if move.label == "staging":
                staged.add(move.to_version)
                continue
            # Every production move is an applied proposal: the same moment, the same
            # person, the proposal's reason, and the version it was applied as.
            number = int(move.reason.split(":")[0].removeprefix("Proposal "))
            proposal = applied[number]
            event = proposal.events[-1]
            assert event.data["label_move"] == move.sequence
            assert (event.timestamp, event.actor) == (move.timestamp, move.created_by)
            assert move.reason == f"Proposal {number}: {proposal.reason}"
            assert proposal.applied_version == move.to_version
            # What production gets, staging had first, or the proposal wrote it then.
            written = manager.get_version(move.to_version)
            assert written is not None
            assert move.to_version in staged or written.metadata.get("proposal") == number
        # Each move is recorded under its author's account, as the admin records it.
        rows = BotConfigLabelMove.objects.filter(bot_config=bot).select_related("created_by_user")
        assert all(row.created_by == row.created_by_user.username for row in rows)
        # Production is behind latest, as a release is: the admin shows by how much.
        states = {s.name: s for s in releases.label_states(bot)}
        production = states["production"].version
        assert states["staging"].behind == 0
        assert production is not None
        assert bot.current_version - production >= 2
        assert manager.resolve("production") == manager.get_version(production)
    call_command("verify_config_history", stdout=StringIO())


@pytest.mark.django_db
def test_support_bot_production_was_rolled_back_through_review():
    load()
    manager = BotConfig.objects.get(slug="support-bot").version_manager

    production = [m for m in moves("support-bot") if m.label == "production"]

    assert [(m.from_version, m.to_version) for m in production] == [
        (None, 1),
        (1, 2),
        (2, 4),
        (4, 5),
        (5, 6),
        (6, 7),
    ]
    # Version 6 is version 4's config, proposed by priya, approved by jonas, and written
    # when she applied it: production moved to it in the same transaction.
    rollback = production[4]
    v4, v6 = manager.get_version(4), manager.get_version(6)
    assert v4 is not None
    assert v6 is not None
    assert v6.config == v4.config
    assert v6.metadata == {"proposal": 6, "revision": 1, "approvers": ["jonas"]}
    assert (v6.created_by, rollback.created_by) == ("priya", "priya")
    assert rollback.timestamp == v6.timestamp
    assert "order numbers" in rollback.reason
    proposal = manager.get_proposal(6)
    assert (proposal.author, proposal.base_version, proposal.approvers) == ("priya", 5, ("jonas",))
    # What production served at any moment, as resolve(as_of=) answers it.
    before = manager.resolve("production", as_of=rollback.timestamp - 1)
    after = manager.resolve("production", as_of=rollback.timestamp)
    assert before is not None
    assert before.version == 5
    assert after is not None
    assert after.version == 6
    assert manager.resolve("production", as_of=manager.get_version(1).timestamp) is None


@pytest.mark.django_db
def test_leads_apply_to_production_editors_move_staging():
    load()
    users = get_user_model().objects

    for bot in BotConfig.objects.all():
        for move in moves(bot.slug):
            if move.label == "production":
                assert move.created_by in LEADS, move
    staging_authors = {m.created_by for b in BOTS for m in moves(b.slug) if m.label == "staging"}
    assert staging_authors & EDITORS
    assert staging_authors & LEADS
    for name in LEADS:
        lead = users.get(username=name)
        # Production is not moved directly by anyone: it is reviewed.
        assert releases.movable_labels(lead) == ["staging"]
        assert releases.move_refusal(lead, "production") is None
    for name in EDITORS:
        editor = users.get(username=name)
        assert releases.move_refusal(editor, "staging") is None
        refusal = releases.move_refusal(editor, "production")
        assert refusal is not None
        assert "promote_protected_botconfig" in refusal
    robot = users.get(username="bot-runtime")
    assert releases.movable_labels(robot) == []


@pytest.mark.django_db
def test_a_direct_move_of_production_is_refused_and_nothing_is_written():
    load()
    bot = BotConfig.objects.get(slug="support-bot")
    users = get_user_model().objects
    marcus, priya = users.get(username="marcus"), users.get(username="priya")
    before = story("support-bot")

    with pytest.raises(PermissionDenied):
        releases.move_label(bot, marcus, "production", 9, reason="ship it")
    with pytest.raises(ReviewRequiredError, match="moves only by applying an approved proposal"):
        releases.move_label(bot, priya, "production", 9, reason="ship it")
    moved = releases.move_label(bot, marcus, "staging", 8, reason="back to v8 on staging")

    assert moved.created_by == "marcus"
    assert story("support-bot") == [*before, ("staging", 9, 8, "marcus", "back to v8 on staging")]


@pytest.mark.django_db
def test_loading_again_writes_no_label_move_and_no_proposal_step():
    load()
    before = {bot.slug: story(bot.slug) for bot in BotConfig.objects.all()}
    counts = (BotConfigLabelMove.objects.count(), BotConfigProposalEvent.objects.count())

    out = load()

    assert out.startswith("Nothing to do: the demo data is already loaded.")
    assert "Note:" not in out
    assert (BotConfigLabelMove.objects.count(), BotConfigProposalEvent.objects.count()) == counts
    assert {bot.slug: story(bot.slug) for bot in BotConfig.objects.all()} == before


@pytest.mark.django_db
def test_a_site_without_the_labels_gets_the_same_versions_and_no_releases(settings):
    with override_settings(CONFIG_VERSIONS={**settings.CONFIG_VERSIONS, "LABELS": {}}):
        out = load()

    assert "Released" not in out
    assert not BotConfigLabelMove.objects.exists()
    for demo in BOTS:
        manager = BotConfig.objects.get(slug=demo.slug).version_manager
        assert manager.current_version == len(demo.steps) + 1
        # Releases of a version as it is are left out; proposals of changes are made
        # without a label.
        for proposal in manager.proposals():
            base = manager.get_version(proposal.base_version)
            assert base is not None
            assert proposal.label is None
            assert proposal.config != base.config
    support = BotConfig.objects.get(slug="support-bot").version_manager
    assert support.get_version(7).metadata["merged_onto"] == 6
    # Loading again with the labels adds nothing to configs that have a history.
    assert load().startswith("Nothing to do")


@pytest.mark.django_db
def test_an_earlier_demo_without_proposals_is_kept_and_noted(settings):
    bot = BotConfig.objects.create(name="Customer support bot", slug="support-bot")
    bot.version_manager.create({"name": "SupportBot"}, reason="First version", created_by="priya")

    out = load()

    assert (
        "Note: support-bot was loaded by an earlier demo, without proposals; remove the "
        "demo's database and load it again to see them."
    ) in out
    assert bot.version_manager.current_version == 1
    assert "Created bot config docs-assistant with 9 versions" in out


@pytest.mark.django_db
def test_a_demo_person_without_the_rights_leaves_their_bots_out():
    # A site's own "amara" who may not review: each bot she reviews in is left out
    # whole (the permission check refuses her, as the admin would), nothing half written.
    get_user_model().objects.create_user("amara")

    out = load()

    for demo in BOTS:
        assert (
            f"Left out {demo.slug}: You may not review proposals (permission review_botconfig)."
        ) in out
    assert not BotConfig.objects.exists()
    assert not BotConfigLabelMove.objects.exists()
    assert not BotConfigProposalEvent.objects.exists()


@pytest.mark.django_db
def test_everything_happens_in_the_past_in_order_between_its_versions():
    load()
    now = time.time()
    for demo in BOTS:
        manager = BotConfig.objects.get(slug=demo.slug).version_manager
        stamps = {v.version: v.timestamp for v in manager.get_history()}
        found = moves(demo.slug)
        events = [e for p in manager.proposals() for e in p.events]
        times = sorted([m.timestamp for m in found] + [e.timestamp for e in events])
        assert times[-1] < now - 3600  # a past review, not "just now"
        assert [m.timestamp for m in found] == sorted(m.timestamp for m in found)
        by_time = sorted(events, key=lambda e: e.timestamp)
        assert [e.sequence for e in by_time] == list(range(1, len(events) + 1))
        staging = [m for m in found if m.label == "staging"]
        for move, release in zip(staging, demo.releases, strict=True):
            assert (move.to_version, move.reason) == (release.version, release.reason)
            after = stamps.get(release.version + 1, now)
            assert stamps[release.version] < move.timestamp < after


@pytest.mark.parametrize("hour", [0, 6, 9, 17, 23])
def test_every_moment_falls_where_it_says_whatever_the_hour(hour):
    now = datetime(2026, 3, 1, hour, 59, tzinfo=UTC)
    for demo in BOTS:
        moments = history_moments(len(demo.steps) + 1, now)
        stamps = {n: moment.timestamp() for n, moment in enumerate(moments, start=1)}

        found = timeline(demo, stamps, LABELS, now=now.timestamp())  # raises if out of place

        assert [m.when for m in found] == sorted(m.when for m in found)
        assert [m.version for m in found if m.version] == list(range(1, len(demo.steps) + 2))
        assert found[-1].when < now.timestamp()


def test_a_moment_out_of_place_is_refused():
    demo = BOTS[0]
    moments = history_moments(len(demo.steps) + 1, datetime(2026, 3, 1, 12, tzinfo=UTC))
    stamps = {n: moment.timestamp() for n, moment in enumerate(moments, start=1)}
    late = Release("staging", 1, "priya", "too late", 60)
    early = Proposed("lena", "before its base", base=3, at=(3, -60))

    with pytest.raises(ValueError, match="not before version 2 was written"):
        timeline(replace(demo, releases=(late,)), stamps, LABELS)
    with pytest.raises(ValueError, match="not after version 2 was written"):
        timeline(replace(demo, proposals=(early,)), stamps, LABELS)


def test_release_proposals_are_left_out_without_their_label():
    demo = BOTS[0]
    moments = history_moments(len(demo.steps) + 1, datetime(2026, 3, 1, 12, tzinfo=UTC))
    stamps = {n: moment.timestamp() for n, moment in enumerate(moments, start=1)}

    with_labels = timeline(demo, stamps, LABELS)
    without = timeline(demo, stamps, set())

    def submitted(found: list[Moment]) -> list[Submitted]:
        return [m.what for m in found if isinstance(m.what, Submitted)]

    assert len(submitted(with_labels)) == 8
    assert [(s.reason, s.label) for s in submitted(without)] == [
        (s.reason, None) for s in submitted(with_labels) if s.edits or s.config_of
    ]


@pytest.mark.django_db
def test_the_printed_logins_say_who_may_release():
    out = load()

    assert (
        "Who may move the labels: staging (Editors and Leads), production (protected, "
        "reviewed: Leads and Reviewers approve, Leads apply)"
    ) in out
    assert "marcus, sofia / demo   Editors: edit configs, promote to staging," in out
    assert "lena / demo   Proposers: propose changes for review;" in out
    assert "amara / demo   Reviewers: approve or reject proposals;" in out


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
def test_the_index_page_says_who_may_release(client):
    page = client.get("/").content.decode()

    assert (
        "<code>production</code> (protected):\n        moves only by applying an approved "
        "proposal: Leads and Reviewers\n        approve (never their own), Leads apply."
    ) in page
    assert "<code>staging</code>:\n        moved by Editors and Leads." in page
    assert "<code>marcus</code>, <code>sofia</code>" in page
    assert "<code>lena</code>\n        / <code>demo</code> (Proposers): propose changes" in page
    assert "?label=production" in page
