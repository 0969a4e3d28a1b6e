"""The admin's delete is archive: the confirmation, the bulk action, the Status filter,
the read-only page of an archived config with its Restore button, and who may do what."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from config_versions.models import BotConfig, BotConfigVersion
from tests.admin.conftest import PASSWORD
from tests.admin.helpers import change_data, messages_of, text, url, version_numbers

pytestmark = pytest.mark.django_db

# Roles of this file: what each may do with archiving.
PERMS = {
    "viewer": ("view_botconfig",),
    "editor": ("change_botconfig",),  # may restore, not archive
    "archiver": ("view_botconfig", "delete_botconfig"),  # may archive, not restore
    "keeper": ("change_botconfig", "delete_botconfig", "rollback_botconfig"),
}


def login(role: str) -> Client:
    user = get_user_model().objects.create_user(
        role, f"{role}@example.com", PASSWORD, is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="config_versions", codename__in=PERMS[role]
        )
    )
    client = Client()
    client.force_login(user)
    return client


def archived(bot: BotConfig) -> BotConfig:
    return BotConfig.objects.get(pk=bot.pk)


def changelist_names(response) -> list[str]:
    return [obj.name for obj in response.context["cl"].result_list]


def action_names(response) -> set[str]:
    form = response.context["action_form"]
    if form is None:  # no action at all
        return set()
    return {name for name, _ in form.fields["action"].choices if name}


@pytest.fixture
def other(db):
    bot = BotConfig.objects.create(name="Other bot", slug="other-bot")
    bot.version_manager.create({"other": True})
    return bot


@pytest.fixture
def retired(bot_with_history):
    bot_with_history.archive(by="admin", reason="Replaced by the new bot")
    return bot_with_history


# Archiving one config ---------------------------------------------------------------------


def test_the_change_form_offers_archive_not_delete(su_client, bot_with_history):
    html = su_client.get(url("change", bot_with_history.pk)).content.decode()
    assert f'href="{url("delete", bot_with_history.pk)}"' in html
    assert ">Archive</a>" in html
    assert ">Delete</a>" not in html


def test_the_confirmation_says_what_archiving_does(su_client, bot_with_history):
    response = su_client.get(url("delete", bot_with_history.pk))
    assert response.status_code == 200
    page = text(response)
    assert "Archive Support bot?" in page
    assert "nothing is deleted" in page
    assert "support-bot get 410 Gone" in page
    assert "2 versions, is kept" in page
    assert "can be restored" in page
    assert 'name="reason"' in response.content.decode()
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert not archived(bot_with_history).is_archived


def test_archiving_records_who_why_and_logs_it(su_client, superuser, bot_with_history):
    response = su_client.post(url("delete", bot_with_history.pk), {"reason": "Bot retired"})
    assert response.status_code == 302
    assert response["Location"] == url("changelist")
    bot = archived(bot_with_history)
    assert (bot.is_archived, bot.archived_by, bot.archive_reason) == (
        True,
        "superuser",
        "Bot retired",
    )
    assert version_numbers(bot) == [1, 2]
    entry = LogEntry.objects.get(object_id=str(bot.pk))
    assert (entry.action_flag, entry.user, entry.change_message) == (
        CHANGE,
        superuser,
        "Archived: Bot retired",
    )
    page = su_client.get(response["Location"])
    assert "Support bot</a>” was archived" in " ".join(messages_of(page))
    assert changelist_names(page) == []


def test_archiving_without_a_reason(su_client, bot_with_history):
    su_client.post(url("delete", bot_with_history.pk), {"post": "yes"})
    bot = archived(bot_with_history)
    assert bot.is_archived
    assert bot.archive_reason == ""
    assert LogEntry.objects.get().change_message == "Archived."


@pytest.mark.parametrize("reason", ["nul \x00 char", "x" * 10_001])
def test_a_reason_no_database_stores_is_an_error_on_the_page(su_client, bot_with_history, reason):
    response = su_client.post(url("delete", bot_with_history.pk), {"reason": reason})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not archived(bot_with_history).is_archived


def test_archiving_an_archived_config_changes_nothing(su_client, retired):
    before = archived(retired)
    response = su_client.post(url("delete", retired.pk), {"reason": "again"})
    assert response.status_code == 302
    assert response["Location"] == url("change", retired.pk)
    after = archived(retired)
    assert (after.archived_at, after.archive_reason) == (before.archived_at, before.archive_reason)
    assert not LogEntry.objects.exists()


def test_a_missing_config_is_not_a_crash(su_client, db):
    for path in (url("delete", 999999), url("restore", 999999)):
        response = su_client.post(path, {})
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index")


# The archived config's pages -----------------------------------------------------------


def test_an_archived_config_is_read_only_with_a_banner(su_client, retired):
    response = su_client.get(url("change", retired.pk))
    assert response.status_code == 200
    html = response.content.decode()
    page = text(response)
    assert "Archived on" in page
    assert "by admin" in page
    assert "Reason: Replaced by the new bot" in page
    assert "410 Gone" in page
    assert f'action="{url("restore", retired.pk)}"' in html
    assert 'value="Restore"' in html
    # Read-only: no editor, no save, no archive link; the config is shown.
    assert 'name="config"' not in html
    assert 'name="_save"' not in html
    assert url("delete", retired.pk) not in html
    assert "claude-3-sonnet" in page


def test_saving_an_archived_config_is_refused_without_a_crash(su_client, retired):
    data = change_data(retired, '{"new": true}')
    response = su_client.post(url("change", retired.pk), data)
    assert response.status_code == 302
    assert response["Location"] == url("change", retired.pk)
    assert version_numbers(retired) == [1, 2]
    page = su_client.get(response["Location"])
    assert "is archived, so nothing was saved" in " ".join(messages_of(page))


def test_history_and_diff_still_work_without_rollback(su_client, retired):
    history = su_client.get(url("history", retired.pk))
    assert history.status_code == 200
    assert "Roll back to this version" not in text(history)
    diff = su_client.get(url("diff", retired.pk) + "?from=1&to=2")
    assert diff.status_code == 200
    assert "claude-3-sonnet" in text(diff)
    assert url("rollback", retired.pk, 1) not in diff.content.decode()


def test_rolling_back_an_archived_config_is_refused_without_a_crash(su_client, retired):
    response = su_client.post(url("rollback", retired.pk, 1), {"reason": "back"})
    assert response.status_code == 302
    assert version_numbers(retired) == [1, 2]
    page = su_client.get(response["Location"])
    assert "restore it before rolling it back" in " ".join(messages_of(page))
    assert su_client.get(url("rollback", retired.pk, 1)).status_code == 302


# Restoring ------------------------------------------------------------------------------


def test_restore_brings_it_back_and_logs_it(su_client, superuser, retired):
    response = su_client.post(url("restore", retired.pk))
    assert response.status_code == 302
    assert response["Location"] == url("change", retired.pk)
    assert not archived(retired).is_archived
    entry = LogEntry.objects.get()
    assert (entry.user, entry.change_message) == (superuser, "Restored.")
    page = su_client.get(response["Location"])
    assert "was restored" in " ".join(messages_of(page))
    assert 'name="config"' in page.content.decode()  # editable again
    assert "Archived on" not in text(page)


def test_restore_is_a_post(su_client, retired):
    assert su_client.get(url("restore", retired.pk)).status_code == 405
    assert archived(retired).is_archived


def test_restore_needs_the_csrf_token(superuser, retired):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    assert client.post(url("restore", retired.pk)).status_code == 403
    assert archived(retired).is_archived


def test_restoring_an_active_config_says_so(su_client, bot_with_history):
    response = su_client.post(url("restore", bot_with_history.pk))
    assert response.status_code == 302
    assert "is not archived" in " ".join(messages_of(su_client.get(response["Location"])))
    assert not LogEntry.objects.exists()


# Permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_without_delete_permission_no_archiving(role, bot_with_history):
    client = login(role)
    assert (
        url("delete", bot_with_history.pk)
        not in client.get(url("change", bot_with_history.pk)).content.decode()
    )
    assert client.get(url("delete", bot_with_history.pk)).status_code == 403
    assert client.post(url("delete", bot_with_history.pk), {"reason": "x"}).status_code == 403
    assert "archive_selected" not in action_names(client.get(url("changelist")))
    client.post(
        url("changelist"),
        {"action": "archive_selected", "_selected_action": [bot_with_history.pk], "post": "yes"},
    )
    assert not archived(bot_with_history).is_archived


def test_archiver_archives_but_cannot_restore(retired, other):
    client = login("archiver")
    assert client.post(url("delete", other.pk), {"reason": "done"}).status_code == 302
    assert archived(other).is_archived
    page = client.get(url("change", retired.pk))
    assert page.status_code == 200
    assert "Archived on" in text(page)
    assert 'value="Restore"' not in page.content.decode()
    assert client.post(url("restore", retired.pk)).status_code == 403
    changelist = client.get(url("changelist") + "?status=archived")
    assert "restore_selected" not in action_names(changelist)
    client.post(
        url("changelist") + "?status=archived",
        {"action": "restore_selected", "_selected_action": [retired.pk]},
    )
    assert archived(retired).is_archived


def test_editor_restores(retired):
    client = login("editor")
    page = client.get(url("change", retired.pk))
    assert 'value="Restore"' in page.content.decode()
    assert client.post(url("restore", retired.pk)).status_code == 302
    assert not archived(retired).is_archived


def test_anonymous_is_sent_to_log_in(client, retired):
    for response in (
        client.get(url("delete", retired.pk)),
        client.post(url("restore", retired.pk)),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert archived(retired).is_archived


@pytest.mark.parametrize("role", ["viewer", "editor", "archiver", "keeper"])
def test_no_page_fails_for_any_role(role, retired, other):
    client = login(role)
    pages = [
        url("changelist"),
        url("changelist") + "?status=archived",
        url("changelist") + "?status=all",
        url("changelist") + "?status=bogus",
    ]
    for bot in (retired, other):
        pages += [
            url("change", bot.pk),
            url("history", bot.pk),
            url("diff", bot.pk),
            url("delete", bot.pk),
            url("rollback", bot.pk, 1),
        ]
    for page in pages:
        assert client.get(page).status_code in (200, 302, 403), page
    for bot in (retired, other):
        for path in (url("restore", bot.pk), url("rollback", bot.pk, 1), url("delete", bot.pk)):
            assert client.post(path, {}).status_code in (200, 302, 403), path


# The changelist ---------------------------------------------------------------------------


def test_the_changelist_hides_archived_configs_by_default(su_client, retired, other):
    response = su_client.get(url("changelist"))
    assert changelist_names(response) == ["Other bot"]
    status = next(f for f in response.context["cl"].filter_specs if f.title == "status")
    choices = list(status.choices(response.context["cl"]))
    assert [(c["display"], c["selected"]) for c in choices] == [
        ("Active", True),
        ("Archived", False),
        ("All", False),
    ]
    assert "Archived" not in [str(c) for c in response.context["cl"].list_display]


def test_the_status_filter_shows_archived_and_all(su_client, retired, other):
    only = su_client.get(url("changelist") + "?status=archived")
    assert changelist_names(only) == ["Support bot"]
    assert "by admin" in text(only)
    everything = su_client.get(url("changelist") + "?status=all")
    assert changelist_names(everything) == ["Other bot", "Support bot"]
    assert su_client.get(url("changelist") + "?status=bogus").status_code == 200


def test_the_status_filter_counts_with_facets(su_client, retired, other):
    response = su_client.get(url("changelist") + "?_facets=1")
    status = next(f for f in response.context["cl"].filter_specs if f.title == "status")
    assert [c["display"] for c in status.choices(response.context["cl"])] == [
        "Active (1)",
        "Archived (1)",
        "All (2)",
    ]
    assert changelist_names(response) == ["Other bot"]


def test_changelist_actions_follow_the_status(su_client, retired):
    assert action_names(su_client.get(url("changelist"))) == {
        "archive_selected",
        "rollback_to_previous",
    }
    assert action_names(su_client.get(url("changelist") + "?status=archived")) == {
        "restore_selected"
    }
    assert action_names(su_client.get(url("changelist") + "?status=all")) == {
        "archive_selected",
        "restore_selected",
        "rollback_to_previous",
    }


def test_archive_selected_confirms_then_archives(su_client, bot_with_history, other):
    selected = [bot_with_history.pk, other.pk]
    page = su_client.post(
        url("changelist"), {"action": "archive_selected", "_selected_action": selected}
    )
    assert page.status_code == 200
    assert "Archive bot configs?" in text(page)
    assert "410 Gone" in text(page)
    assert "2 versions" in text(page)
    assert not BotConfig.objects.archived().exists()
    done = su_client.post(
        url("changelist"),
        {
            "action": "archive_selected",
            "_selected_action": selected,
            "post": "yes",
            "reason": "Spring cleaning",
        },
    )
    assert done.status_code == 302
    assert set(BotConfig.objects.archived()) == {bot_with_history, other}
    assert set(BotConfig.objects.values_list("archive_reason", flat=True)) == {"Spring cleaning"}
    assert LogEntry.objects.filter(change_message="Archived: Spring cleaning").count() == 2
    assert "Archived “Other bot”, “Support bot”" in " ".join(
        messages_of(su_client.get(done["Location"]))
    )


def test_archive_selected_leaves_archived_ones_alone(su_client, retired, other):
    before = archived(retired).archived_at
    page = su_client.post(
        url("changelist") + "?status=all",
        {"action": "archive_selected", "_selected_action": [retired.pk, other.pk]},
    )
    assert "Archived already, left as they are: “Support bot”" in text(page)
    su_client.post(
        url("changelist") + "?status=all",
        {"action": "archive_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert archived(other).is_archived
    assert archived(retired).archived_at == before
    assert LogEntry.objects.count() == 1


def test_restore_selected(su_client, retired, other):
    other.archive(by="x")
    response = su_client.post(
        url("changelist") + "?status=archived",
        {"action": "restore_selected", "_selected_action": [retired.pk, other.pk]},
    )
    assert response.status_code == 302
    assert not BotConfig.objects.archived().exists()
    assert LogEntry.objects.filter(change_message="Restored.").count() == 2


def test_rollback_action_leaves_archived_configs_out(su_client, retired, other):
    other.version_manager.update({"other": False}, reason="r")
    page = su_client.post(
        url("changelist") + "?status=all",
        {"action": "rollback_to_previous", "_selected_action": [retired.pk, other.pk]},
    )
    assert page.status_code == 200
    assert [p.obj for p in page.context["plans"]] == [archived(other)]
    assert "Archived configs are not rolled back: “Support bot”" in " ".join(messages_of(page))
    su_client.post(
        url("changelist") + "?status=all",
        {
            "action": "rollback_to_previous",
            "_selected_action": [retired.pk, other.pk],
            "post": "yes",
            f"cv_expected_{other.pk}": "2",
            f"cv_expected_{retired.pk}": "2",
        },
    )
    assert version_numbers(retired) == [1, 2]
    assert version_numbers(other) == [1, 2, 3]


# The version admin ------------------------------------------------------------------------


def test_the_version_admin_deletes_nothing(su_client, bot_with_history):
    version = bot_with_history.versions.get(version=1)
    changelist = su_client.get(reverse("admin:config_versions_botconfigversion_changelist"))
    assert changelist.status_code == 200
    assert "delete_selected" not in action_names(changelist)
    delete = reverse("admin:config_versions_botconfigversion_delete", args=[version.pk])
    assert su_client.get(delete).status_code == 403
    assert su_client.post(delete, {"post": "yes"}).status_code == 403
    su_client.post(
        reverse("admin:config_versions_botconfigversion_changelist"),
        {"action": "delete_selected", "_selected_action": [version.pk], "post": "yes"},
    )
    assert BotConfigVersion.objects.filter(pk=version.pk).exists()


# Archived while a request was on its way ------------------------------------------------


def _archive_before_the_insert(bot: BotConfig):
    """A database hook (Django's execute_wrapper) that archives ``bot`` just before the
    version's INSERT runs: the admin checked "not archived" earlier in the request."""
    done: list[bool] = []

    def wrapper(execute, sql, params, many, context):
        if not done and sql.lstrip().upper().startswith("INSERT INTO") and "version" in sql:
            done.append(True)
            BotConfig.objects.get(pk=bot.pk).archive(by="someone else")
        return execute(sql, params, many, context)

    return wrapper


def test_a_rollback_racing_an_archive_says_so_and_writes_nothing(su_client, bot_with_history):
    from django.db import connection

    page = url("rollback", bot_with_history.pk, 1)
    with connection.execute_wrapper(_archive_before_the_insert(bot_with_history)):
        response = su_client.post(page, {"reason": "back", "expected_version": 2})
    assert response.status_code == 302
    assert version_numbers(bot_with_history) == [1, 2]
    assert "archived" in " ".join(messages_of(su_client.get(response["Location"]))).lower()
