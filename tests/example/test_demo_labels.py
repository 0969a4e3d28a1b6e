"""The demo's releases: staging and production declared, promoted and once moved back."""

from __future__ import annotations

import importlib
import time
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import override_settings

from config_versions import releases
from config_versions.core.labels import LabelMove
from config_versions.models import BotConfig, BotConfigLabelMove
from demo.data import BOTS, GROUPS, PEOPLE, PROMOTE, PROMOTE_PROTECTED
from demo.management.commands.load_demo_configs import (
    Command,
    demo_history,
    history_moments,
    release_times,
)

pytestmark = pytest.mark.usefixtures("example_settings")

LEADS = {p.username for p in PEOPLE if p.group == "Leads"}
EDITORS = {p.username for p in PEOPLE if p.group == "Editors"}


def load() -> str:
    out = StringIO()
    call_command(Command(), stdout=out)
    return out.getvalue()


def moves(slug: str) -> list[LabelMove]:
    """Every label move of ``slug``, oldest first."""
    return list(reversed(BotConfig.objects.get(slug=slug).version_manager.label_history()))


def story(slug: str) -> list[tuple[str, int | None, int, str | None, str]]:
    return [(m.label, m.from_version, m.to_version, m.created_by, m.reason) for m in moves(slug)]


def test_the_site_declares_staging_and_a_protected_production():
    site = importlib.import_module("example_project.settings")

    labels = site.CONFIG_VERSIONS["LABELS"]

    assert list(labels) == ["staging", "production"]
    assert labels["production"]["protected"] is True
    assert not labels["staging"].get("protected", False)
    assert site.CONFIG_VERSIONS.get("DEFAULT_LABEL", "latest") == "latest"


def test_the_demo_permissions_are_the_apps_own():
    assert f"config_versions.{PROMOTE}" == releases.PROMOTE
    assert f"config_versions.{PROMOTE_PROTECTED}" == releases.PROMOTE_PROTECTED
    assert PROMOTE in GROUPS["Editors"].permissions
    assert PROMOTE_PROTECTED not in GROUPS["Editors"].permissions
    assert {PROMOTE, PROMOTE_PROTECTED} <= set(GROUPS["Leads"].permissions)
    assert PROMOTE not in GROUPS["Bots"].permissions


@pytest.mark.django_db
def test_every_bot_is_promoted_to_staging_then_production():
    out = load()

    assert "Released support-bot: production at v7, staging at v9 (15 label moves)" in out
    assert "Released docs-assistant: production at v7, staging at v9" in out
    assert "Released ops-agent: production at v4, staging at v7" in out
    for demo in BOTS:
        bot = BotConfig.objects.get(slug=demo.slug)
        manager = bot.version_manager
        found = moves(demo.slug)
        assert [m.sequence for m in found] == list(range(1, len(demo.releases) + 1))
        assert all(m.reason for m in found)
        # Production only ever gets a version staging had first.
        staged: set[int] = set()
        for move in found:
            if move.label == "staging":
                staged.add(move.to_version)
            else:
                assert move.to_version in staged, move
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
def test_support_bot_production_was_once_moved_back():
    load()
    manager = BotConfig.objects.get(slug="support-bot").version_manager

    production = [m for m in moves("support-bot") if m.label == "production"]
    back = [m for m in production if m.to_version < (m.from_version or 0)]

    assert [(m.from_version, m.to_version) for m in production] == [
        (None, 1),
        (1, 2),
        (2, 4),
        (4, 5),
        (5, 4),
        (4, 7),
    ]
    assert len(back) == 1
    rollback = back[0]
    assert rollback.created_by == "priya"
    assert "order numbers" in rollback.reason
    # The label went back first; the config's own rollback (v6, to v4's config) followed.
    v6 = manager.get_version(6)
    assert v6 is not None
    assert v6.metadata == {"rollback_from": 5, "rollback_to": 4}
    assert rollback.timestamp < v6.timestamp
    # What production served at any moment, as resolve(as_of=) answers it.
    before = manager.resolve("production", as_of=rollback.timestamp - 1)
    after = manager.resolve("production", as_of=rollback.timestamp)
    assert before is not None
    assert before.version == 5
    assert after is not None
    assert after.version == 4
    assert manager.resolve("production", as_of=manager.get_version(1).timestamp) is None


@pytest.mark.django_db
def test_only_leads_move_production_editors_move_staging():
    load()
    users = get_user_model().objects

    for bot in BotConfig.objects.all():
        for move in moves(bot.slug):
            group = "Leads" if move.created_by in LEADS else "Editors"
            if move.label == "production":
                assert group == "Leads", move
    staging_authors = {m.created_by for b in BOTS for m in moves(b.slug) if m.label == "staging"}
    assert staging_authors & EDITORS
    assert staging_authors & LEADS
    for name in LEADS:
        lead = users.get(username=name)
        assert releases.movable_labels(lead) == ["staging", "production"]
    for name in EDITORS:
        editor = users.get(username=name)
        assert releases.move_refusal(editor, "staging") is None
        refusal = releases.move_refusal(editor, "production")
        assert refusal is not None
        assert "promote_protected_botconfig" in refusal
    robot = users.get(username="bot-runtime")
    assert releases.movable_labels(robot) == []


@pytest.mark.django_db
def test_an_editor_is_refused_production_and_nothing_is_written():
    load()
    bot = BotConfig.objects.get(slug="support-bot")
    marcus = get_user_model().objects.get(username="marcus")
    before = story("support-bot")

    with pytest.raises(PermissionDenied):
        releases.move_label(bot, marcus, "production", 9, reason="ship it")
    moved = releases.move_label(bot, marcus, "staging", 8, reason="back to v8 on staging")

    assert moved.created_by == "marcus"
    assert story("support-bot") == [*before, ("staging", 9, 8, "marcus", "back to v8 on staging")]


@pytest.mark.django_db
def test_loading_again_writes_no_label_move():
    load()
    before = {bot.slug: story(bot.slug) for bot in BotConfig.objects.all()}
    count = BotConfigLabelMove.objects.count()

    out = load()

    assert out.startswith("Nothing to do: the demo data is already loaded.")
    assert BotConfigLabelMove.objects.count() == count
    assert {bot.slug: story(bot.slug) for bot in BotConfig.objects.all()} == before


@pytest.mark.django_db
def test_a_demo_loaded_before_releases_gets_them_once(settings):
    declared = settings.CONFIG_VERSIONS
    with override_settings(CONFIG_VERSIONS={**declared, "LABELS": {}}):
        first = load()
    assert "Released" not in first
    assert not BotConfigLabelMove.objects.exists()

    second = load()
    third = load()

    assert "Gave" not in second
    assert "Released support-bot: production at v7, staging at v9 (15 label moves)" in second
    assert third.startswith("Nothing to do")
    # The same releases as a fresh load writes, each before the next version.
    for demo in BOTS:
        found = story(demo.slug)
        assert len(found) == len(demo.releases)
        assert {(label, to) for label, _, to, _, _ in found} == {
            (r.label, r.version) for r in demo.releases
        }


@pytest.mark.django_db
def test_a_changed_demo_config_gets_no_releases(settings):
    with override_settings(CONFIG_VERSIONS={**settings.CONFIG_VERSIONS, "LABELS": {}}):
        load()
    bot = BotConfig.objects.get(slug="ops-agent")
    bot.version_manager.update({"name": "OpsAgent", "edited": "by hand"}, reason="mine")

    out = load()

    assert "Released ops-agent" not in out
    assert "Released support-bot" in out
    assert not BotConfigLabelMove.objects.filter(bot_config=bot).exists()


@pytest.mark.django_db
def test_a_demo_author_who_may_not_promote_leaves_the_labels_unset(settings):
    with override_settings(CONFIG_VERSIONS={**settings.CONFIG_VERSIONS, "LABELS": {}}):
        load()
    get_user_model().objects.get(username="sofia").groups.clear()

    out = load()

    # Sofia moved staging in every demo bot: the permission check refuses her moves, as
    # it would in the admin, and each bot's moves are undone together.
    for demo in BOTS:
        assert f"Left the labels of {demo.slug} unset: You may not move labels" in out
    assert not BotConfigLabelMove.objects.exists()


@pytest.mark.django_db
def test_the_moves_are_spread_over_the_history_in_order():
    load()
    now = time.time()
    for demo in BOTS:
        manager = BotConfig.objects.get(slug=demo.slug).version_manager
        stamps = {v.version: v.timestamp for v in manager.get_history()}
        found = moves(demo.slug)
        assert [m.timestamp for m in found] == sorted(m.timestamp for m in found)
        assert found[-1].timestamp < now - 3600  # a past release, not "just now"
        for move, release in zip(found, demo.releases, strict=True):
            assert (move.label, move.to_version, move.reason) == (
                release.label,
                release.version,
                release.reason,
            )
            assert stamps[release.anchor] < move.timestamp < stamps.get(release.anchor + 1, now)


@pytest.mark.parametrize("hour", [0, 6, 9, 17, 23])
def test_every_release_falls_between_its_versions_whatever_the_hour(hour):
    now = datetime(2026, 3, 1, hour, 59, tzinfo=UTC)
    for demo in BOTS:
        history = demo_history(demo)
        moments = history_moments(len(history), now)
        numbers = [number for number, _, _ in history]
        stamps = {n: moment.timestamp() for n, moment in zip(numbers, moments, strict=True)}

        timed = release_times(demo.releases, stamps)  # raises if one is out of place

        assert [release for _, release in timed] == list(demo.releases)  # listed in order
        assert timed[-1][0] < now.timestamp()


@pytest.mark.django_db
def test_the_printed_logins_say_who_may_promote():
    out = load()

    assert (
        "Who may move the labels: staging (Editors and Leads), production (protected: Leads)" in out
    )
    assert "marcus, sofia / demo   Editors: edit configs, promote to staging;" in out


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
def test_the_index_page_says_who_may_promote(client):
    page = client.get("/").content.decode()

    assert "<code>production</code> (protected):\n        moved by Leads." in page
    assert "<code>staging</code>:\n        moved by Editors and Leads." in page
    assert "<code>marcus</code>, <code>sofia</code>" in page
    assert "?label=production" in page
