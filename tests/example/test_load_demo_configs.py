from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import models
from django.db.models.functions import Cast
from django.test import override_settings
from rest_framework.authtoken.models import Token

from config_versions.models import BotConfig, BotConfigVersion
from config_versions.validation import validate_against_schema
from demo.data import BOTS, REMOVE, apply_edits
from demo.management.commands.load_demo_configs import Command
from demo.validators import reject_inline_secrets

# The example site's own validator runs on every demo version, as it does in the demo.
EXAMPLE_CONFIG_VERSIONS = {"VALIDATORS": ["demo.validators.reject_inline_secrets"]}


def load() -> str:
    out = StringIO()
    # The demo app is not installed in the test settings; its command is called directly.
    call_command(Command(), stdout=out)
    return out.getvalue()


def snapshot():
    users = get_user_model().objects.order_by("username")
    return {
        "versions": list(
            BotConfigVersion.objects.order_by("bot_config__slug", "version").values_list(
                "bot_config__slug", "version", "chain_hash", "created_by_user__username"
            )
        ),
        "users": list(users.values_list("username", "password", "is_staff", "is_superuser")),
        "groups": sorted(
            (g.name, p.codename) for g in Group.objects.all() for p in g.permissions.all()
        ),
        "tokens": list(Token.objects.values_list("key", flat=True)),
    }


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS=EXAMPLE_CONFIG_VERSIONS)
def test_loads_three_bots_with_histories_by_several_authors():
    out = load()

    assert "Created bot config support-bot with 9 versions" in out
    assert sorted(BotConfig.objects.values_list("slug", flat=True)) == [
        "docs-assistant",
        "ops-agent",
        "support-bot",
    ]
    for bot in BotConfig.objects.all():
        history = bot.version_manager.get_history()
        assert 5 <= len(history) <= 20
        assert bot.current_version == len(history)
        authors = {v.created_by for v in history}
        assert len(authors) >= 3
        assert all(v.reason for v in history)
        # The label and the user account agree on every version.
        rows = BotConfigVersion.objects.filter(bot_config=bot).select_related("created_by_user")
        assert all(row.created_by == row.created_by_user.username for row in rows)
    # metadata is PostgreSQL's json there (exact numbers): JSON lookups go through a cast.
    rollbacks = BotConfigVersion.objects.alias(meta=Cast("metadata", models.JSONField())).filter(
        meta__has_key="rollback_to"
    )
    assert rollbacks.count() >= 1
    support = BotConfig.objects.get(slug="support-bot")
    assert support.schema is not None
    docs = BotConfig.objects.get(slug="docs-assistant").version_manager
    assert docs.get_version(9).metadata == {"rollback_from": 8, "rollback_to": 7}
    assert docs.get_version(9).config == docs.get_version(7).config
    call_command("verify_config_history", stdout=StringIO())


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS=EXAMPLE_CONFIG_VERSIONS)
def test_every_demo_config_satisfies_its_schema():
    load()
    schemas = BotConfig.objects.filter(schema__isnull=False).values_list("slug", "schema")
    assert [slug for slug, _ in schemas] == ["support-bot"]
    for slug, schema in schemas:
        assert schema is not None
        for version in BotConfig.objects.get(slug=slug).version_manager.get_history():
            validate_against_schema(schema, version.config)


@pytest.mark.django_db
def test_people_get_the_rights_of_their_group():
    out = load()
    users = get_user_model().objects
    priya, marcus, robot = (users.get(username=n) for n in ("priya", "marcus", "bot-runtime"))
    assert priya.has_perm("config_versions.rollback_botconfig")
    assert marcus.has_perm("config_versions.change_botconfig")
    assert not marcus.has_perm("config_versions.rollback_botconfig")
    assert not marcus.has_perm("config_versions.add_botconfig")
    assert marcus.has_perm("config_versions.promote_botconfig")
    assert not marcus.has_perm("config_versions.promote_protected_botconfig")
    assert priya.has_perm("config_versions.promote_protected_botconfig")
    assert not robot.has_perm("config_versions.promote_botconfig")
    assert robot.has_perm("config_versions.view_botconfig")
    assert not robot.has_perm("config_versions.change_botconfig")
    assert not robot.is_staff
    assert not robot.has_usable_password()
    assert priya.is_staff
    assert priya.check_password("demo")
    assert users.get(username="admin").is_superuser
    assert users.get(username="admin").check_password("admin")
    token = Token.objects.get(user=robot)
    assert f"API token of bot-runtime (read only): {token.key}" in out
    assert "admin / admin" in out


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_says_so():
    load()
    before = snapshot()

    out = load()

    assert out.startswith("Nothing to do: the demo data is already loaded.")
    assert snapshot() == before


@pytest.mark.django_db
def test_an_existing_config_is_never_added_to():
    mine = BotConfig.objects.create(name="Mine", slug="support-bot")
    mine.version_manager.create({"name": "mine"}, created_by="someone")

    out = load()

    assert "support-bot" not in out
    assert mine.version_manager.get_history()[0].config == {"name": "mine"}
    assert len(mine.version_manager) == 1
    assert BotConfig.objects.get(slug="ops-agent").current_version == 7


@pytest.mark.django_db
def test_an_empty_config_with_a_demo_slug_gets_the_history():
    BotConfig.objects.create(name="Empty", slug="ops-agent")

    out = load()

    assert "Filled the empty bot config ops-agent with 7 versions" in out
    assert BotConfig.objects.get(slug="ops-agent").current_version == 7


@pytest.mark.django_db
def test_missing_group_permissions_are_restored():
    load()
    Group.objects.get(name="Leads").permissions.clear()

    out = load()

    assert (
        "Gave group Leads: add_botconfig, change_botconfig, promote_botconfig, "
        "promote_protected_botconfig, review_botconfig, rollback_botconfig, view_botconfig, "
        "view_botconfigversion"
    ) in out
    jonas = get_user_model().objects.get(username="jonas")
    assert jonas.has_perm("config_versions.rollback_botconfig")
    assert jonas.has_perm("config_versions.promote_protected_botconfig")


def test_apply_edits_sets_appends_and_removes_without_touching_the_input():
    config = {"llm": {"model": "a"}, "tools": [{"name": "x"}], "greeting": "hi"}

    edited = apply_edits(
        config,
        {"/llm/model": "b", "/tools/1": {"name": "y"}, "/tools/0/name": "z", "/greeting": REMOVE},
    )

    assert edited == {"llm": {"model": "b"}, "tools": [{"name": "z"}, {"name": "y"}]}
    assert config == {"llm": {"model": "a"}, "tools": [{"name": "x"}], "greeting": "hi"}


def test_every_demo_step_changes_something():
    for bot in BOTS:
        config = bot.config
        for step in bot.steps:
            if step.rollback_to is None:
                edited = apply_edits(config, step.edits)
                assert edited != config, step.reason
                config = edited


def test_the_site_validator_names_inline_secrets_by_path(bot):
    reject_inline_secrets({"llm": {"api_key_env": "OPENAI_API_KEY"}}, bot)

    with pytest.raises(ValidationError) as caught:
        reject_inline_secrets(
            {"llm": {"api_key": "sk-live-123"}, "tools": [{"name": "t", "Password": "x"}]}, bot
        )

    assert caught.value.messages == [
        "/llm/api_key: credentials must not be stored in a config; name the environment "
        "variable that holds it (e.g. api_key_env) instead.",
        "/tools/0/Password: credentials must not be stored in a config; name the environment "
        "variable that holds it (e.g. api_key_env) instead.",
    ]


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS=EXAMPLE_CONFIG_VERSIONS)
def test_the_site_validator_keeps_secrets_out_of_the_history(bot):
    manager = bot.version_manager
    manager.create({"llm": {"api_key_env": "OPENAI_API_KEY"}})

    with pytest.raises(ValidationError, match="/llm/api_key"):
        manager.update({"llm": {"api_key": "sk-live-123"}})

    assert len(manager) == 1


@pytest.mark.django_db
@override_settings(CONFIG_VERSIONS=EXAMPLE_CONFIG_VERSIONS)
def test_the_history_is_spread_over_the_past_weeks():
    import time

    from config_versions.integrity import verify_history

    load()
    for bot in BotConfig.objects.all():
        stamps = [v.timestamp for v in reversed(bot.version_manager.get_history())]
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == len(stamps)
        assert stamps[-1] < time.time() - 86_400  # the newest is days old, not "just now"
        assert stamps[-1] - stamps[0] > 7 * 86_400
        assert bot.created_at.timestamp() <= stamps[0]
        assert bot.updated_at.timestamp() == pytest.approx(stamps[-1], abs=1e-3)
        assert verify_history(bot) is None
