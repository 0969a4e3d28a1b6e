"""Rollback asks first: the confirmation page of one config, and of the changelist action."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from config_versions.models import BotConfig
from tests.admin.conftest import make_user
from tests.admin.helpers import messages_of, text, url, version_numbers
from tests.admin.test_rollback import changelist_action, confirmation_data

pytestmark = pytest.mark.django_db


def confirm_form(response) -> str:
    html = response.content.decode()
    return re.search(r'<form method="post" id="cv-rollback-form".*?</form>', html, re.S).group()


def test_page_shows_the_diff_from_the_current_config_to_the_target(su_client, bot_with_history):
    response = su_client.get(url("rollback", bot_with_history.pk, 1))
    assert response.status_code == 200
    page = text(response)
    assert "Roll back Support bot to version 1?" in page
    assert "Rolling back writes a new version, 3, with the config of version 1." in page
    assert "Now: version 2" in page
    assert "Back to: version 1" in page
    # Current config on the left, the target's on the right, changed lines marked.
    html = response.content.decode()
    removed = re.findall(r'<td class="cv-code cv-removed">(.*?)</td>', html)
    added = re.findall(r'<td class="cv-code cv-added">(.*?)</td>', html)
    assert any("anthropic" in cell for cell in removed)
    assert any("openai" in cell for cell in added)
    assert "Rolling back changes 2 places" in page


def test_confirmation_form_carries_reason_version_and_csrf(su_client, bot_with_history):
    response = su_client.get(url("rollback", bot_with_history.pk, 1))
    form = confirm_form(response)
    assert "csrfmiddlewaretoken" in form
    assert 'name="expected_version" value="2"' in form
    assert 'name="reason" value="Rollback to version 1"' in form
    assert f'maxlength="{10_000}"' in form
    assert 'value="Yes, roll back to version 1"' in form
    # The page posts to its own URL; the cancel link goes back to the history.
    assert 'action="' not in form.split(">")[0]
    assert f'href="{url("history", bot_with_history.pk)}"' in form


def test_confirming_rolls_back_with_the_reason_given(su_client, bot_with_history):
    page = su_client.get(url("rollback", bot_with_history.pk, 1))
    data = {"expected_version": page.context["expected_version"], "reason": "GPT-4 was better"}
    response = su_client.post(url("rollback", bot_with_history.pk, 1), data, follow=True)
    assert messages_of(response) == ["Rolled back to version 1: its config is now version 3."]
    third = bot_with_history.version_manager.get_version(3)
    assert (third.reason, third.metadata) == (
        "GPT-4 was better",
        {"rollback_from": 2, "rollback_to": 1},
    )


def test_a_save_between_page_and_confirmation_is_not_undone(su_client, bot_with_history):
    page = su_client.get(url("rollback", bot_with_history.pk, 1))
    bot_with_history.version_manager.update({"newer": True}, reason="meanwhile")
    response = su_client.post(
        url("rollback", bot_with_history.pk, 1),
        {"expected_version": page.context["expected_version"], "reason": "r"},
        follow=True,
    )
    (message,) = messages_of(response)
    assert message.startswith("Version 3 was saved after this page showed version 2")
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_same_config_says_so_and_offers_no_confirmation(su_client, bot_with_history):
    bot_with_history.version_manager.rollback(1)  # v3 has v1's config
    bot_with_history.refresh_from_db()
    response = su_client.get(url("rollback", bot_with_history.pk, 1))
    assert (
        "Version 1 has the same config as the current version 3: rolling back to it would "
        "change nothing." in text(response)
    )
    assert 'id="cv-rollback-form"' not in response.content.decode()
    # Posted anyway: the manager writes nothing, and the page says it once.
    response = su_client.post(
        url("rollback", bot_with_history.pk, 1), {"expected_version": "3"}, follow=True
    )
    assert messages_of(response) == [
        "Version 1 has the same config as the current version 3, so nothing was rolled back."
    ]
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_a_version_the_schema_now_refuses_is_refused_on_the_page(su_client, bot_with_history):
    BotConfig.objects.filter(pk=bot_with_history.pk).update(
        schema={
            "type": "object",
            "properties": {"llm": {"properties": {"provider": {"const": "anthropic"}}}},
        }
    )
    response = su_client.get(url("rollback", bot_with_history.pk, 1))
    assert "Version 1 cannot become current again: /llm/provider:" in text(response)
    assert 'id="cv-rollback-form"' not in response.content.decode()


def test_missing_version_goes_back_to_the_history(su_client, bot_with_history):
    response = su_client.get(url("rollback", bot_with_history.pk, 9))
    assert response.status_code == 302
    assert response["Location"] == url("history", bot_with_history.pk)
    assert messages_of(su_client.get(response["Location"])) == [
        "Nothing was rolled back: Version 9 not found"
    ]


@override_settings(CONFIG_VERSIONS={"MAX_REASON_LENGTH": 20})
def test_over_long_reason_is_a_form_error_and_nothing_is_written(su_client, bot_with_history):
    response = su_client.post(
        url("rollback", bot_with_history.pk, 1), {"expected_version": "2", "reason": "x" * 21}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "Ensure this value has at most 20 characters (it has 21)."
    ]
    assert "Ensure this value has at most 20 characters" in text(response)
    assert version_numbers(bot_with_history) == [1, 2]
    # 20 characters are within the limit.
    su_client.post(
        url("rollback", bot_with_history.pk, 1), {"expected_version": "2", "reason": "x" * 20}
    )
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_default_limit_is_the_managers_not_500(su_client, bot_with_history):
    reason = "why? " * 160 + "because"  # 807 characters
    su_client.post(url("rollback", bot_with_history.pk, 1), {"reason": reason})
    assert bot_with_history.version_manager.get_version(3).reason == reason


def test_nul_in_the_reason_is_a_form_error_and_nothing_is_written(su_client, bot_with_history):
    response = su_client.post(
        url("rollback", bot_with_history.pk, 1), {"expected_version": "2", "reason": "a\x00b"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Null characters are not allowed."]
    assert version_numbers(bot_with_history) == [1, 2]


def test_fold_links_unfold_on_the_same_page(su_client, bot):
    manager = bot.version_manager
    manager.create({f"key{n:02}": n for n in range(40)})
    manager.update({**{f"key{n:02}": n for n in range(40)}, "key20": "changed"})
    bot.refresh_from_db()
    folded = su_client.get(url("rollback", bot.pk, 1))
    assert "unchanged lines" in text(folded)
    unfolded = su_client.get(url("rollback", bot.pk, 1) + "?expand=all")
    assert "unchanged lines" not in text(unfolded)
    assert version_numbers(bot) == [1, 2]


def role_client(*codenames: str) -> Client:
    user = make_user("staff")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="config_versions", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "codenames",
    [
        ("view_botconfig", "change_botconfig"),  # may edit, may not roll back
        ("rollback_botconfig",),  # may roll back, but may not see configs
    ],
)
def test_refused_without_both_permissions_on_get_and_post(bot_with_history, codenames):
    client = role_client(*codenames)
    assert client.get(url("rollback", bot_with_history.pk, 1)).status_code == 403
    response = client.post(url("rollback", bot_with_history.pk, 1), {"expected_version": "2"})
    assert response.status_code == 403
    assert version_numbers(bot_with_history) == [1, 2]


def test_view_and_rollback_permission_is_enough(bot_with_history):
    client = role_client("view_botconfig", "rollback_botconfig")
    assert client.get(url("rollback", bot_with_history.pk, 1)).status_code == 200
    client.post(url("rollback", bot_with_history.pk, 1), {"expected_version": "2"})
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_values_on_the_page_are_escaped(su_client, bot):
    manager = bot.version_manager
    manager.create({"greeting": "<script>alert(1)</script>"}, reason="<b>first</b>")
    manager.update({"greeting": "hi"}, created_by="<i>eve</i>")
    bot.refresh_from_db()
    html = su_client.get(url("rollback", bot.pk, 1)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<b>first</b>" not in html
    assert "<i>eve</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# The changelist action ------------------------------------------------------------------


def test_action_lists_what_each_config_goes_back_to(su_client, bot_with_history):
    fresh = BotConfig.objects.create(name="Fresh", slug="fresh")
    fresh.version_manager.create({"only": 1})
    twin = twin_bot()

    response = changelist_action(su_client, bot_with_history, fresh, twin)
    assert response.status_code == 200
    page = text(response)
    assert "Roll back configs to their previous version?" in page
    assert "Support bot version 2 version 1 becomes version 3, with the config of version 1" in page
    assert "Fresh version 1 — nothing to do: there is no previous version" in page
    assert "Twin version 3 version 2 nothing to do: version 2 already has the current config" in (
        page
    )
    html = response.content.decode()
    form = re.search(r'<form method="post" novalidate>.*?</form>', html, re.S).group()
    # Only the configs with something to do are posted, each with the version shown.
    assert re.findall(r'name="_selected_action" value="(\d+)"', form) == [str(bot_with_history.pk)]
    assert f'name="cv_expected_{bot_with_history.pk}" value="2"' in form
    assert "csrfmiddlewaretoken" in form
    assert version_numbers(bot_with_history) == [1, 2]


def confirmed(bot: BotConfig, shown_version: int) -> dict:
    """The action's confirming POST for ``bot``, as a page that showed ``shown_version``."""
    return {
        "action": "rollback_to_previous",
        "_selected_action": [bot.pk],
        "post": "yes",
        f"cv_expected_{bot.pk}": str(shown_version),
    }


def twin_bot() -> BotConfig:
    """A config whose version 3 has version 2's config, as an imported history can."""
    from config_versions.core.manager import ConfigVersionManager
    from config_versions.managers import restore_history

    source = ConfigVersionManager()
    source.create({"t": 1})
    source.update({"t": 2})
    source.update({"t": 3})
    document = source.to_dict()
    document["versions"][2]["config"] = {"t": 2}
    twin = BotConfig.objects.create(name="Twin", slug="twin")
    restore_history(twin, document)
    twin.refresh_from_db()
    return twin


def test_action_with_nothing_to_do_offers_no_confirmation(su_client, bot):
    bot.version_manager.create({"only": 1})
    response = changelist_action(su_client, bot)
    assert "None of the selected configs has anything to roll back." in text(response)
    assert 'name="post"' not in response.content.decode()


def test_action_confirmation_with_a_reason(su_client, bot_with_history):
    page = changelist_action(su_client, bot_with_history)
    su_client.post(url("changelist"), confirmation_data(page, reason="Back to GPT-4"))
    third = bot_with_history.version_manager.get_version(3)
    assert (third.reason, third.created_by) == ("Back to GPT-4", "superuser")


@override_settings(CONFIG_VERSIONS={"MAX_REASON_LENGTH": 5})
def test_action_over_long_reason_shows_the_page_again_and_writes_nothing(
    su_client, bot_with_history
):
    page = changelist_action(su_client, bot_with_history)
    response = su_client.post(url("changelist"), confirmation_data(page, reason="too long"))
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "Ensure this value has at most 5 characters (it has 8)."
    ]
    assert version_numbers(bot_with_history) == [1, 2]


def test_action_does_not_roll_back_a_config_saved_after_the_confirmation(
    su_client, bot_with_history
):
    page = changelist_action(su_client, bot_with_history)
    bot_with_history.version_manager.update({"newer": True}, reason="meanwhile")
    response = su_client.post(url("changelist"), confirmation_data(page), follow=True)
    assert messages_of(response) == [
        "“Support bot” was not rolled back: it was saved again after the confirmation "
        "showed version 2."
    ]
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_action_rollback_to_the_same_config_writes_nothing(su_client, db):
    twin = twin_bot()  # v3 equals v2
    page = changelist_action(su_client, twin)
    assert [p.to_do for p in page.context["plans"]] == [False]
    # Posted anyway (an old confirmation page): the manager decides, once.
    response = su_client.post(url("changelist"), confirmed(twin, 3), follow=True)
    assert messages_of(response) == [
        "Nothing to roll back for “Twin” (version 2 has the same config as version 3)."
    ]
    assert version_numbers(twin) == [1, 2, 3]


def test_action_refused_without_the_permission(client_as, bot_with_history):
    # Without the permission the action does not exist for this user: the post is a
    # plain changelist request.
    response = client_as("editor").post(
        url("changelist"), confirmed(bot_with_history, 2), follow=True
    )
    assert response.status_code == 200
    assert "Rolled back" not in text(response)
    assert version_numbers(bot_with_history) == [1, 2]


def test_same_config_is_no_refusal_even_if_todays_schema_refuses_it(su_client, bot_with_history):
    """Nothing would be written, so no rule refuses it: the page says "same config"."""
    bot_with_history.version_manager.rollback(1)  # v3 has v1's config
    BotConfig.objects.filter(pk=bot_with_history.pk).update(
        schema={"type": "object", "properties": {"name": {"type": "integer"}}}
    )
    response = su_client.get(url("rollback", bot_with_history.pk, 1))
    assert "rolling back to it would change nothing." in text(response)
    assert "cannot become current again" not in text(response)
    response = su_client.post(
        url("rollback", bot_with_history.pk, 1), {"expected_version": "3"}, follow=True
    )
    assert messages_of(response) == [
        "Version 1 has the same config as the current version 3, so nothing was rolled back."
    ]
    assert version_numbers(bot_with_history) == [1, 2, 3]
