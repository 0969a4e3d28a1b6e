"""Promote to …: the confirmation page (diff, reason, expected version) and its POST."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from config_versions.core.errors import ConfigArchivedError
from config_versions.models import BotConfigLabelMove
from tests.admin.helpers import messages_of, text, url
from tests.admin.test_labels import LABELS, PROMOTER, RELEASE_MANAGER, client_with
from tests.admin.test_no_writes import WRITE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _labels(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS}


@pytest.fixture
def bot(bot_with_history):
    """Support bot at v3; production at v1, staging not set."""
    manager = bot_with_history.version_manager
    manager.update({"name": "SupportBot", "llm": {"provider": "anthropic", "model": "opus"}})
    manager.set_label("production", 1, reason="first release", created_by="ann")
    bot_with_history.refresh_from_db()
    return bot_with_history


def confirm_form(response) -> str:
    html = response.content.decode()
    match = re.search(r'<form method="post" id="cv-promote-form".*?</form>', html, re.S)
    assert match is not None
    return match.group()


def moves() -> list[tuple[str, int | None, int]]:
    return list(
        BotConfigLabelMove.objects.order_by("sequence").values_list(
            "label", "from_version", "to_version"
        )
    )


# The confirmation page --------------------------------------------------------------------


def test_page_shows_the_diff_from_what_the_label_serves_to_the_target(su_client, bot):
    response = su_client.get(url("promote", bot.pk, "production", 3))
    assert response.status_code == 200
    page = text(response)
    assert "Promote Support bot version 3 to production?" in page
    assert "production points at version 1 now. Confirming points it at version 3" in page
    assert "production is a protected label" in page
    assert "Now: version 1 production" in page
    assert "To: version 3 current" in page
    assert (
        "Moving production changes 2 places: version 1 on the left, version 3 on the right" in page
    )
    html = response.content.decode()
    removed = re.findall(r'<td class="cv-code cv-removed">(.*?)</td>', html)
    added = re.findall(r'<td class="cv-code cv-added">(.*?)</td>', html)
    assert any("gpt-4" in cell for cell in removed)
    assert any("opus" in cell for cell in added)


def test_form_carries_reason_expected_version_and_csrf(su_client, bot):
    form = confirm_form(su_client.get(url("promote", bot.pk, "production", 3)))
    assert "csrfmiddlewaretoken" in form
    assert 'name="expected_version" value="1"' in form
    assert 'name="reason" value="Promote version 3 to production"' in form
    assert 'value="Yes, move production to version 3"' in form
    assert 'action="' not in form.split(">")[0]  # posts to its own URL
    assert f'href="{url("history", bot.pk)}"' in form


def test_a_label_not_set_yet_is_compared_with_nothing(su_client, bot):
    response = su_client.get(url("promote", bot.pk, "staging", 2))
    page = text(response)
    assert "staging is not set yet. Confirming points it at version 2" in page
    assert "Now: not set" in page
    assert "staging starts from nothing: the config of version 2 on the right" in page
    assert "Not set Version 2" in page
    html = response.content.decode()
    assert 'name="expected_version" value="0"' in confirm_form(response)
    # Every line of version 2 is added; the left side is empty.
    assert len(re.findall(r'<td class="cv-code cv-added">', html)) == 7
    assert 'class="cv-code cv-removed"' not in html
    assert "protected" not in page


def test_a_target_with_the_same_config_says_so(su_client, bot):
    bot.version_manager.rollback(1)  # v4 has v1's config
    bot.refresh_from_db()
    page = text(su_client.get(url("promote", bot.pk, "production", 4)))
    assert "Versions 1 and 4 have the same config" in page
    assert "No difference: version 1 on the left, version 4 on the right" in page


def test_where_the_label_already_points_there_is_nothing_to_confirm(su_client, bot):
    response = su_client.get(url("promote", bot.pk, "production", 1))
    assert "production already points at version 1: there is nothing to move." in text(response)
    assert 'id="cv-promote-form"' not in response.content.decode()


def test_folds_unfold_on_the_page(su_client, bot):
    manager = bot.version_manager
    manager.update({f"k{n:02}": n for n in range(40)})
    manager.update({**{f"k{n:02}": n for n in range(40)}, "k39": "changed"})
    bot.refresh_from_db()
    su_client.post(url("promote", bot.pk, "staging", 4), {"expected_version": "0"})
    response = su_client.get(url("promote", bot.pk, "staging", 5))
    html = response.content.decode()
    assert 'class="cv-fold"' in html
    unfolded = su_client.get(url("promote", bot.pk, "staging", 5) + "?expand=all")
    assert 'class="cv-fold"' not in unfolded.content.decode()


def test_looking_writes_nothing(su_client, bot):
    for page in (
        url("promote", bot.pk, "production", 3),
        url("promote", bot.pk, "staging", 2),
        url("labels", bot.pk),
        url("label_history", bot.pk, "production"),
        url("history", bot.pk),
        url("change", bot.pk),
        url("changelist"),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert su_client.get(page).status_code == 200, page
        assert [q["sql"] for q in queries if WRITE.match(q["sql"])] == [], page


# Confirming --------------------------------------------------------------------------------


def test_confirming_moves_the_label(su_client, superuser, bot):
    response = su_client.post(
        url("promote", bot.pk, "production", 3),
        {"expected_version": "1", "reason": "Opus is ready"},
        follow=True,
    )
    assert response.redirect_chain == [(url("history", bot.pk), 302)]
    assert messages_of(response) == ["production now points at version 3 (it was at version 1)."]
    assert bot.version_manager.get_label("production") == 3
    move = BotConfigLabelMove.objects.get(sequence=2)
    assert (move.from_version, move.to_version, move.reason) == (1, 3, "Opus is ready")
    assert (move.created_by, move.created_by_user) == ("superuser", superuser)
    # The history shows the badge where the label now points.
    rows = {row.version: [b.name for b in row.labels] for row in response.context["rows"]}
    assert rows[3] == ["production"]
    assert rows[1] == []
    entry = LogEntry.objects.get()
    assert entry.get_change_message() == "Moved label production to version 3 (was version 1)."


def test_first_move_of_a_label(su_client, bot):
    response = su_client.post(
        url("promote", bot.pk, "staging", 2), {"expected_version": "0", "reason": ""}, follow=True
    )
    assert messages_of(response) == ["staging now points at version 2 (it was not set)."]
    assert moves()[-1] == ("staging", None, 2)
    assert BotConfigLabelMove.objects.get(label="staging").reason == ""  # optional


def test_moving_to_where_it_points_says_nothing_was_moved(su_client, bot):
    response = su_client.post(
        url("promote", bot.pk, "production", 1), {"expected_version": "1"}, follow=True
    )
    assert messages_of(response) == [
        "production already points at version 1, so nothing was moved."
    ]
    assert moves() == [("production", None, 1)]
    assert not LogEntry.objects.exists()


def test_a_move_made_meanwhile_is_not_overwritten(su_client, bot):
    page = su_client.get(url("promote", bot.pk, "production", 3))
    bot.version_manager.set_label("production", 2, reason="meanwhile", created_by="bob")
    response = su_client.post(
        url("promote", bot.pk, "production", 3),
        {"expected_version": page.context["expected_version"], "reason": "Opus is ready"},
    )
    assert response.status_code == 200
    error = text(response)
    assert (
        "production was moved to version 2 after this page showed it at version 1, so nothing "
        "was moved. The comparison below now starts from version 2" in error
    )
    assert moves() == [("production", None, 1), ("production", 1, 2)]
    # The page now shows (and expects) where the label points; the reason typed is kept.
    form = confirm_form(response)
    assert 'name="expected_version" value="2"' in form
    assert 'value="Opus is ready"' in form
    assert "Now: version 2" in error
    # Confirming again moves it.
    su_client.post(
        url("promote", bot.pk, "production", 3), {"expected_version": "2", "reason": "again"}
    )
    assert moves()[-1] == ("production", 2, 3)


def test_a_label_set_meanwhile_is_not_overwritten(su_client, bot):
    bot.version_manager.set_label("staging", 1)
    response = su_client.post(url("promote", bot.pk, "staging", 3), {"expected_version": "0"})
    assert "staging was set to version 1 after this page showed it not set" in text(response)
    assert moves()[-1] == ("staging", None, 1)


def test_moved_meanwhile_to_the_target_itself(su_client, bot):
    bot.version_manager.set_label("production", 3)
    response = su_client.post(url("promote", bot.pk, "production", 3), {"expected_version": "1"})
    page = text(response)
    assert "production was moved to version 3 by someone else after this page was shown" in page
    assert "production already points at version 3" in page
    assert 'id="cv-promote-form"' not in response.content.decode()


def test_a_post_without_expected_version_moves_from_wherever(su_client, bot):
    su_client.post(url("promote", bot.pk, "production", 2), {"reason": "by hand"})
    assert moves()[-1] == ("production", 1, 2)


def test_malformed_expected_version_moves_nothing(su_client, bot):
    response = su_client.post(
        url("promote", bot.pk, "production", 3), {"expected_version": "x"}, follow=True
    )
    assert messages_of(response) == ["The promote request was malformed."]
    assert len(moves()) == 1


@override_settings(CONFIG_VERSIONS={"LABELS": LABELS, "MAX_REASON_LENGTH": 20})
def test_over_long_reason_is_a_form_error_and_nothing_is_written(su_client, bot):
    response = su_client.post(
        url("promote", bot.pk, "production", 3), {"expected_version": "1", "reason": "x" * 21}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "Ensure this value has at most 20 characters (it has 21)."
    ]
    assert len(moves()) == 1


def test_a_reason_the_manager_refuses_is_a_form_error(su_client, bot):
    from config_versions.core.errors import InvalidConfigError

    refused = InvalidConfigError("reason must not hold control characters", field="reason")
    with mock.patch("config_versions.admin.labels.move_label", side_effect=refused):
        response = su_client.post(
            url("promote", bot.pk, "production", 3), {"expected_version": "1", "reason": "r"}
        )
    assert response.context["form"].errors["reason"] == ["Reason must not hold control characters"]


# Refusals: 403 and 404, nothing written ------------------------------------------------------


def test_without_promote_protected_a_protected_label_is_403(bot):
    client = client_with(*PROMOTER)
    assert client.get(url("promote", bot.pk, "production", 3)).status_code == 403
    response = client.post(url("promote", bot.pk, "production", 3), {"expected_version": "1"})
    assert response.status_code == 403
    assert len(moves()) == 1
    # The unprotected label is theirs to move.
    assert client.get(url("promote", bot.pk, "staging", 3)).status_code == 200
    client.post(url("promote", bot.pk, "staging", 3), {"expected_version": "0"})
    assert moves()[-1] == ("staging", None, 3)


def test_with_promote_protected_a_protected_label_moves(bot):
    client = client_with(*RELEASE_MANAGER)
    client.post(url("promote", bot.pk, "production", 3), {"expected_version": "1"})
    assert moves()[-1] == ("production", 1, 3)


@pytest.mark.parametrize(
    "codenames",
    [
        ("view_botconfig",),
        ("change_botconfig", "rollback_botconfig"),
        ("promote_botconfig", "promote_protected_botconfig"),  # sees no config
    ],
)
def test_without_promote_it_is_403_and_nothing_is_written(bot, codenames):
    client = client_with(*codenames)
    assert client.get(url("promote", bot.pk, "staging", 3)).status_code == 403
    response = client.post(url("promote", bot.pk, "staging", 3), {"expected_version": "0"})
    assert response.status_code == 403
    assert len(moves()) == 1


def test_anonymous_is_sent_to_the_login(client, bot):
    response = client.post(url("promote", bot.pk, "staging", 3), {"expected_version": "0"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert len(moves()) == 1


@pytest.mark.parametrize("label", ["canary", "latest", "bad label", "x" * 60])
def test_an_undeclared_label_is_404(su_client, bot, label):
    assert su_client.get(url("promote", bot.pk, label, 3)).status_code == 404
    assert su_client.post(url("promote", bot.pk, label, 3), {}).status_code == 404
    assert len(moves()) == 1


@pytest.mark.parametrize("version", [0, 4, 99])
def test_a_version_that_does_not_exist_is_404(su_client, bot, version):
    assert su_client.get(url("promote", bot.pk, "staging", version)).status_code == 404
    response = su_client.post(url("promote", bot.pk, "staging", version), {"expected_version": "0"})
    assert response.status_code == 404
    assert len(moves()) == 1


def test_a_missing_config_goes_to_the_index(su_client, db):
    response = su_client.get(url("promote", 999, "staging", 1), follow=True)
    assert "Perhaps it was deleted?" in messages_of(response)[0]


# Archived configs --------------------------------------------------------------------------


def test_an_archived_config_has_no_confirmation(su_client, bot):
    bot.archive(by="admin")
    response = su_client.get(url("promote", bot.pk, "staging", 3), follow=True)
    assert response.redirect_chain == [(url("history", bot.pk), 302)]
    assert messages_of(response) == [
        "“Support bot” is archived, so its labels stay where they are: restore it to move them."
    ]


def test_archived_between_page_and_post_is_said_not_500(su_client, bot):
    su_client.get(url("promote", bot.pk, "staging", 3))
    bot.archive(by="admin")
    response = su_client.post(
        url("promote", bot.pk, "staging", 3), {"expected_version": "0"}, follow=True
    )
    assert response.status_code == 200
    assert "is archived, so its labels stay where they are" in messages_of(response)[0]
    assert len(moves()) == 1


def test_archived_during_the_move_is_said_not_500(su_client, bot):
    # Archived after the view's check, before the manager's write: the store refuses.
    with mock.patch("config_versions.admin.labels.move_label", side_effect=ConfigArchivedError()):
        response = su_client.post(
            url("promote", bot.pk, "staging", 3), {"expected_version": "0"}, follow=True
        )
    assert "is archived, so its labels stay where they are" in messages_of(response)[0]
    assert len(moves()) == 1


def test_a_config_gone_during_the_move_says_nothing_was_moved(su_client, bot):
    from config_versions.core.errors import NoConfigError

    with mock.patch(
        "config_versions.admin.labels.move_label", side_effect=NoConfigError("gone meanwhile")
    ):
        response = su_client.post(
            url("promote", bot.pk, "staging", 3), {"expected_version": "0"}, follow=True
        )
    assert messages_of(response) == ["Nothing was moved: gone meanwhile"]
