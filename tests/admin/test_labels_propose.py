"""Propose for …: a label that moves only by applying an approved proposal
(``REVIEW["labels"]``) is released by proposing one of its versions from the history.

The history offers "Propose for production" to whoever may propose; the promote URL shows
them the same confirmation as a move (the diff from what production serves now), and its
POST submits a proposal that edits nothing, made from that version: applying it once
approved moves production there. Direct moves of other labels: test_labels_promote.py.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from config_versions import review
from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigProposal
from tests.admin.helpers import messages_of, text, url, version_numbers
from tests.admin.test_labels import row_html
from tests.admin.test_labels_promote import confirm_form
from tests.admin.test_no_writes import WRITE
from tests.admin.test_proposals import LABELS, OPUS, REVIEW, Roles

pytestmark = pytest.mark.django_db

# May move every label directly, but not propose.
RELEASE_MANAGER = ("viewer", "promote_botconfig", "promote_protected_botconfig")


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


@pytest.fixture
def as_role(db):
    return Roles()


@pytest.fixture
def released(bot_with_history):
    """Support bot at v3 (opus); production at v1, set before it came under review."""
    bot_with_history.version_manager.update(OPUS, reason="Opus", created_by="admin")
    with override_settings(CONFIG_VERSIONS={"LABELS": LABELS}):
        bot_with_history.version_manager.set_label("production", 1, created_by="ann")
    bot_with_history.refresh_from_db()
    return bot_with_history


def release(bot: BotConfig, version: int) -> int:
    """Production moved to ``version`` the way it moves: a proposal approved and applied."""
    manager = bot.version_manager
    config = manager.get_version(version).config
    found = manager.propose(
        config, version, reason="meanwhile", created_by="other", label="production"
    )
    manager.review_proposal(found.id, "approve", "reviewer")
    manager.apply_proposal(found.id, applied_by="editor")
    return found.id


def user(name: str):
    return get_user_model().objects.get(username=name)


def propose_buttons(html: str) -> list[tuple[str, str]]:
    """(url, text) of each "Propose for …" button on a page."""
    found = re.findall(
        r'<a href="([^"]+)" class="button cv-propose-button[^"]*"[^>]*>(.*?)</a>', html, re.S
    )
    return [(href, re.sub(r"<[^>]+>", "", label).strip()) for href, label in found]


def promote_buttons(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="button cv-promote-button', html)


def proposals() -> list[tuple[int, str | None, int, str]]:
    return list(
        BotConfigProposal.objects.order_by("number").values_list(
            "number", "label", "base_version", "status"
        )
    )


def moves() -> list[tuple[int | None, int]]:
    return list(
        BotConfigLabelMove.objects.filter(label="production")
        .order_by("sequence")
        .values_list("from_version", "to_version")
    )


# The history: who sees "Propose for production" ---------------------------------------------


def test_a_proposer_sees_propose_for_production_where_production_does_not_point(as_role, released):
    html = as_role("proposer").get(url("history", released.pk)).content.decode()
    assert propose_buttons(html) == [
        (url("promote", released.pk, "production", 3), "Propose for production"),
        (url("promote", released.pk, "production", 2), "Propose for production"),
    ]
    assert "Propose for" not in row_html(html, 1)  # production is there already
    # Production is protected: the same lock as on a promote button.
    button = re.search(
        r'<a [^>]*class="button cv-propose-button[^>]*>.*?</a>', row_html(html, 3), re.S
    )
    assert button is not None
    assert "cv-promote-protected" in button.group()
    assert 'class="cv-lock"' in button.group()
    assert 'title="A protected label"' in button.group()
    # A proposer moves no label directly.
    assert promote_buttons(html) == []


@pytest.mark.parametrize(
    "who",
    [
        ("editor",),  # change + promote + promote_protected
        ("nobody", "change_botconfig"),  # the change permission proposes too
        ("superuser",),  # the lead
    ],
)
def test_editors_and_the_lead_see_it_next_to_promote_to_staging(as_role, released, who):
    html = as_role(*who).get(url("history", released.pk)).content.decode()
    assert [href for href, _ in propose_buttons(html)] == [
        url("promote", released.pk, "production", 3),
        url("promote", released.pk, "production", 2),
    ]
    row = row_html(html, 2)
    if who[0] == "nobody":  # may change configs, may not move labels
        assert promote_buttons(html) == []
    else:  # who may move staging: both buttons side by side
        assert re.search(
            r'<div class="cv-promotions">\s*.*Promote to staging.*Propose for production.*</div>',
            row,
            re.S,
        )
    # Never a direct "Promote to production".
    assert "Promote to production" not in html


@pytest.mark.parametrize("who", [("viewer",), ("reviewer",), RELEASE_MANAGER])
def test_who_may_not_propose_sees_no_propose_button(as_role, released, who):
    html = as_role(*who).get(url("history", released.pk)).content.decode()
    assert propose_buttons(html) == []
    assert "Propose for" not in html
    assert "Promote to production" not in html


@pytest.mark.parametrize("who", ["proposer", "superuser"])
def test_an_archived_config_offers_no_proposal(as_role, released, who):
    released.archive(by="admin")
    html = as_role(who).get(url("history", released.pk)).content.decode()
    assert propose_buttons(html) == []
    assert promote_buttons(html) == []


def test_without_review_labels_production_is_promoted_as_before(as_role, released, settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": {"labels": []}}
    html = as_role("superuser").get(url("history", released.pk)).content.decode()
    assert propose_buttons(html) == []
    assert url("promote", released.pk, "production", 3) in promote_buttons(html)


# The confirmation page ----------------------------------------------------------------------


def test_the_page_shows_what_production_would_serve(as_role, released):
    response = as_role("proposer").get(url("promote", released.pk, "production", 3))
    assert response.status_code == 200
    assert response.context["title"] == "Propose version 3 for production?"
    page = text(response)
    assert "Propose version 3 for production?" in page
    # The breadcrumbs: a line of links on Django 5.2, a list on Django 6.
    crumbs = re.search(r'<(div|ol) class="breadcrumbs">(.*?)</\1>', response.content.decode(), re.S)
    assert crumbs is not None
    trail = re.sub(r"<[^>]+>|&rsaquo;|\s+", " ", crumbs.group(2)).split()
    assert " ".join(trail).endswith("History Propose version 3 for production")
    assert (
        "production points at version 1 now. Proposing asks for it to point at version 3 "
        "instead" in page
    )
    assert (
        "production moves only by applying an approved proposal: this one is reviewed "
        "first, and production moves to version 3 once it is approved and applied. Nothing "
        "is written or moved now." in page
    )
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
    form = confirm_form(response)
    assert "csrfmiddlewaretoken" in form
    assert 'name="expected_version" value="1"' in form
    assert 'name="reason" value="Release version 3 to production"' in form
    assert 'value="Propose version 3 for production"' in form
    assert "Yes, move" not in html


def test_a_production_not_set_yet_is_compared_with_nothing(as_role, bot_with_history):
    bot = bot_with_history
    response = as_role("proposer").get(url("promote", bot.pk, "production", 2))
    page = text(response)
    assert "production is not set yet. Proposing asks for it to point at version 2" in page
    assert "Now: not set" in page
    assert "production starts from nothing: the config of version 2 on the right" in page
    assert 'name="expected_version" value="0"' in confirm_form(response)


def test_where_production_points_already_there_is_nothing_to_propose(as_role, released):
    response = as_role("proposer").get(url("promote", released.pk, "production", 1))
    assert "production already points at version 1: there is nothing to move." in text(response)
    assert 'id="cv-promote-form"' not in response.content.decode()


def test_looking_writes_nothing(as_role, released):
    client = as_role("proposer")
    for page in (url("history", released.pk), url("promote", released.pk, "production", 3)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200, page
        assert [q["sql"] for q in queries if WRITE.match(q["sql"])] == [], page


# Proposing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [("proposer",), ("nobody", "change_botconfig"), ("superuser",)])
def test_proposing_submits_one_proposal_and_writes_no_version_and_no_move(as_role, released, who):
    before = BotConfigLabelMove.objects.count()
    response = as_role(*who).post(
        url("promote", released.pk, "production", 2),
        {"expected_version": "1", "reason": "Sonnet is good enough"},
        follow=True,
    )
    assert response.redirect_chain == [(url("proposal", released.pk, 1), 302)]
    assert response.status_code == 200  # the proposal's review page
    assert messages_of(response) == [
        "Proposed version 2 for production as proposal 1. production moves there once it is "
        "approved and applied."
    ]
    assert proposals() == [(1, "production", 2, "open")]
    found = released.version_manager.get_proposal(1)
    assert found.config == released.version_manager.get_version(2).config
    assert (found.author, found.reason, found.base_version) == (
        who[0],
        "Sonnet is good enough",
        2,
    )
    assert version_numbers(released) == [1, 2, 3]
    assert BotConfigLabelMove.objects.count() == before
    assert released.version_manager.get_label("production") == 1
    entry = LogEntry.objects.get()
    assert entry.get_change_message() == "Proposed version 2 for label production: proposal 1."


def test_the_proposal_once_approved_and_applied_moves_production_there(as_role, released):
    as_role("proposer").post(
        url("promote", released.pk, "production", 2), {"expected_version": "1", "reason": "r"}
    )
    manager = released.version_manager
    # Newer versions are written meanwhile; they are no part of the release.
    manager.update({**OPUS, "temperature": 0.2}, reason="v4", created_by="admin")
    manager.update({**OPUS, "temperature": 0.3}, reason="v5", created_by="admin")
    as_role("reviewer")
    as_role("editor")
    review.review(released, user("reviewer"), 1, "approve")
    applied = review.apply(released, user("editor"), 1)
    assert applied.version.version == 2
    assert manager.get_label("production") == 2
    assert moves()[-1] == (1, 2)
    assert version_numbers(released) == [1, 2, 3, 4, 5]  # nothing written
    assert proposals() == [(1, "production", 2, "applied")]


def test_proposing_the_current_version_moves_production_to_it_when_applied(as_role, released):
    as_role("proposer").post(
        url("promote", released.pk, "production", 3), {"expected_version": "1"}
    )
    as_role("reviewer")
    as_role("editor")
    review.review(released, user("reviewer"), 1, "approve")
    applied = review.apply(released, user("editor"), 1)
    assert applied.version.version == 3
    assert released.version_manager.get_label("production") == 3
    assert version_numbers(released) == [1, 2, 3]


def test_a_unicode_reason_is_kept_as_typed(as_role, released):
    reason = "Release v2 — naïve ünïcödé 🚀 ✓"
    as_role("proposer").post(
        url("promote", released.pk, "production", 2), {"expected_version": "1", "reason": reason}
    )
    assert released.version_manager.get_proposal(1).reason == reason


def test_a_blank_reason_is_allowed(as_role, released):
    as_role("proposer").post(
        url("promote", released.pk, "production", 2), {"expected_version": "1", "reason": ""}
    )
    assert proposals() == [(1, "production", 2, "open")]


def test_an_over_long_reason_keeps_the_form_and_proposes_nothing(as_role, released, settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW, "MAX_REASON_LENGTH": 20}
    response = as_role("proposer").post(
        url("promote", released.pk, "production", 3), {"expected_version": "1", "reason": "é" * 21}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "Ensure this value has at most 20 characters (it has 21)."
    ]
    form = confirm_form(response)
    assert f'value="{"é" * 21}"' in form
    assert 'value="Propose version 3 for production"' in form
    assert proposals() == []


def test_a_nul_in_the_reason_keeps_the_form(as_role, released):
    response = as_role("proposer").post(
        url("promote", released.pk, "production", 3), {"expected_version": "1", "reason": "a\x00b"}
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert proposals() == []


def test_a_malformed_expected_version_proposes_nothing(as_role, released):
    response = as_role("proposer").post(
        url("promote", released.pk, "production", 3), {"expected_version": "x"}, follow=True
    )
    assert messages_of(response) == ["The propose request was malformed."]
    assert proposals() == []


def test_a_version_the_schema_now_refuses_is_not_proposed(as_role, released):
    released.schema = {"type": "object", "properties": {"llm": {"required": ["temperature"]}}}
    released.save()
    response = as_role("proposer").post(
        url("promote", released.pk, "production", 2), {"expected_version": "1"}, follow=True
    )
    assert response.redirect_chain == [(url("history", released.pk), 302)]
    (message,) = messages_of(response)
    assert message.startswith("Nothing was proposed:")
    assert "temperature" in message
    assert proposals() == []


# Who may not propose: as before -------------------------------------------------------------


def test_who_may_move_but_not_propose_is_told_as_before(as_role, released):
    client = as_role(*RELEASE_MANAGER)
    for response in (
        client.get(url("promote", released.pk, "production", 3), follow=True),
        client.post(
            url("promote", released.pk, "production", 3), {"expected_version": "1"}, follow=True
        ),
    ):
        assert response.redirect_chain == [(url("history", released.pk), 302)]
        assert messages_of(response)[0].startswith(
            "Nothing was moved: production moves only by applying an approved proposal."
        )
    assert proposals() == []
    assert moves() == [(None, 1)]


@pytest.mark.parametrize("who", ["viewer", "reviewer", "blind_proposer", "nobody"])
def test_who_may_neither_propose_nor_move_is_403(as_role, released, who):
    client = as_role(who)
    assert client.get(url("promote", released.pk, "production", 3)).status_code == 403
    response = client.post(url("promote", released.pk, "production", 3), {"expected_version": "1"})
    assert response.status_code == 403
    assert proposals() == []


def test_anonymous_is_sent_to_the_login(client, released):
    response = client.post(url("promote", released.pk, "production", 3), {"expected_version": "1"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert proposals() == []


@pytest.mark.parametrize("version", [0, 4, 99])
def test_a_version_that_does_not_exist_is_404(as_role, released, version):
    client = as_role("proposer")
    assert client.get(url("promote", released.pk, "production", version)).status_code == 404
    response = client.post(
        url("promote", released.pk, "production", version), {"expected_version": "1"}
    )
    assert response.status_code == 404
    assert proposals() == []


# A page gone stale ----------------------------------------------------------------------


def test_production_moved_meanwhile_shows_the_new_comparison(as_role, released):
    client = as_role("proposer")
    page = client.get(url("promote", released.pk, "production", 3))
    release(released, 2)  # proposal 1
    response = client.post(
        url("promote", released.pk, "production", 3),
        {"expected_version": page.context["expected_version"], "reason": "Opus is ready"},
    )
    assert response.status_code == 200
    body = text(response)
    assert (
        "production was moved to version 2 after this page showed it at version 1, so nothing "
        "was proposed. The comparison below now starts from version 2: review it and confirm "
        "again to propose version 3." in body
    )
    assert "Now: version 2" in body
    form = confirm_form(response)
    assert 'name="expected_version" value="2"' in form
    assert 'value="Opus is ready"' in form
    assert [p[1:] for p in proposals()] == [("production", 2, "applied")]
    # Confirming again proposes.
    response = client.post(
        url("promote", released.pk, "production", 3), {"expected_version": "2", "reason": "again"}
    )
    assert response.status_code == 302
    assert [p[1:] for p in proposals()] == [("production", 2, "applied"), ("production", 3, "open")]


def test_production_moved_meanwhile_to_the_version_itself(as_role, released):
    client = as_role("proposer")
    client.get(url("promote", released.pk, "production", 3))
    release(released, 3)
    response = client.post(url("promote", released.pk, "production", 3), {"expected_version": "1"})
    body = text(response)
    assert "production was moved to version 3 by someone else after this page was shown" in body
    assert "production already points at version 3: there is nothing to move." in body
    assert 'id="cv-promote-form"' not in response.content.decode()
    assert len(proposals()) == 1  # only the one that moved it


def test_proposing_where_production_points_proposes_nothing(as_role, released):
    response = as_role("proposer").post(
        url("promote", released.pk, "production", 1), {"expected_version": "1"}, follow=True
    )
    assert messages_of(response) == [
        "production already points at version 1, so nothing was proposed."
    ]
    assert proposals() == []


def test_the_same_release_proposed_meanwhile_is_not_proposed_twice(as_role, released):
    client = as_role("proposer")
    client.get(url("promote", released.pk, "production", 3))
    as_role("editor").post(
        url("promote", released.pk, "production", 3), {"expected_version": "1", "reason": "first"}
    )
    response = client.post(
        url("promote", released.pk, "production", 3),
        {"expected_version": "1", "reason": "second"},
        follow=True,
    )
    assert response.redirect_chain == [(url("proposal", released.pk, 1), 302)]
    assert messages_of(response) == [
        "Proposal 1 already proposes version 3 for production: nothing new was proposed."
    ]
    assert proposals() == [(1, "production", 3, "open")]
    # The page now leads to it instead of offering a second one.
    page = client.get(url("promote", released.pk, "production", 3))
    assert "Proposal 1 already proposes version 3 for production: review proposal 1" in text(page)
    assert f'href="{url("proposal", released.pk, 1)}"' in page.content.decode()
    assert 'id="cv-promote-form"' not in page.content.decode()


def test_a_posted_twice_form_makes_one_proposal(as_role, released):
    client = as_role("proposer")
    data = {"expected_version": "1", "reason": "double click"}
    client.post(url("promote", released.pk, "production", 3), data)
    client.post(url("promote", released.pk, "production", 3), data)
    assert proposals() == [(1, "production", 3, "open")]


def test_a_proposal_that_edits_is_no_release(as_role, released):
    # An open proposal from version 3 that changes it is another matter: the release of
    # version 3 as it is still gets its own proposal.
    released.version_manager.propose(
        {**OPUS, "temperature": 0.1}, 3, reason="tune", created_by="other", label="production"
    )
    as_role("proposer").post(
        url("promote", released.pk, "production", 3), {"expected_version": "1"}
    )
    assert proposals() == [(1, "production", 3, "open"), (2, "production", 3, "open")]
    assert released.version_manager.get_proposal(2).config == OPUS


def test_a_withdrawn_release_may_be_proposed_again(as_role, released):
    client = as_role("proposer")
    client.post(url("promote", released.pk, "production", 3), {"expected_version": "1"})
    released.version_manager.withdraw_proposal(1, by="proposer")
    client.post(url("promote", released.pk, "production", 3), {"expected_version": "1"})
    assert proposals() == [(1, "production", 3, "withdrawn"), (2, "production", 3, "open")]


def test_archived_between_page_and_post_is_said_not_500(as_role, released):
    client = as_role("proposer")
    client.get(url("promote", released.pk, "production", 3))
    released.archive(by="admin")
    response = client.post(
        url("promote", released.pk, "production", 3), {"expected_version": "1"}, follow=True
    )
    assert response.status_code == 200
    assert "is archived, so its labels stay where they are" in messages_of(response)[0]
    assert proposals() == []


def test_propose_permission_lost_between_page_and_post_is_403(as_role, released):
    client = as_role("proposer")
    client.get(url("promote", released.pk, "production", 3))
    proposer = user("proposer")
    proposer.user_permissions.remove(Permission.objects.get(codename="propose_botconfig"))
    response = client.post(url("promote", released.pk, "production", 3), {"expected_version": "1"})
    assert response.status_code == 403
    assert proposals() == []
