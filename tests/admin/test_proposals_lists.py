"""The lists of proposals: a config's (linked from its change form and history, with how
many await a decision) and every config's (the read-only Proposals admin): awaiting a
decision first, filtered by status, and a number of queries that does not grow with
the rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config_versions.models import BotConfig
from tests.admin.helpers import text, url
from tests.admin.test_no_writes import WRITE
from tests.admin.test_proposals import LABELS, OPUS, REVIEW, Roles, propose

pytestmark = pytest.mark.django_db

SITE_LIST = "admin:config_versions_botconfigproposal_changelist"


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


@pytest.fixture
def as_role(db):
    return Roles()


def several(bot: BotConfig) -> BotConfig:
    """Proposals 1..5 of ``bot``: 1 applied, 2 withdrawn, 3 approved, 4 rejected, 5 open."""
    manager = bot.version_manager
    for n in range(1, 6):
        propose(bot, {**OPUS, "n": n}, reason=f"proposal {n}")
    manager.review_proposal(1, "approve", "reviewer")
    manager.apply_proposal(1, applied_by="editor")
    manager.withdraw_proposal(2, by="proposer")
    manager.review_proposal(3, "approve", "reviewer")
    manager.review_proposal(4, "reject", "reviewer", comment="no")
    return bot


def listed(response) -> list[tuple[int, str]]:
    html = response.content.decode()
    return [
        (int(n), status)
        for n, status in re.findall(
            r'<tr class="cv-proposal-row" data-number="(\d+)" data-status="(\w+)"', html
        )
    ]


# A config's proposals --------------------------------------------------------------------


def test_a_configs_proposals_awaiting_a_decision_first(as_role, bot_with_history):
    bot = several(bot_with_history)
    response = as_role("proposer").get(url("proposals", bot.pk))
    assert response.status_code == 200
    # The awaiting ones, then the closed ones; last changed first within each.
    assert listed(response) == [
        (4, "rejected"),
        (3, "approved"),
        (5, "open"),
        (2, "withdrawn"),
        (1, "applied"),
    ]
    page = text(response)
    assert (
        "Show: all (5) · open (1) · approved (1) · rejected (1) · applied (1) · withdrawn (1)"
        in page
    )
    assert "applied as v3" in page
    html = response.content.decode()
    assert f'href="{url("proposal", bot.pk, 3)}"' in html


def test_filter_by_status(as_role, bot_with_history):
    bot = several(bot_with_history)
    client = as_role("reviewer")
    assert listed(client.get(url("proposals", bot.pk) + "?status=applied")) == [(1, "applied")]
    assert listed(client.get(url("proposals", bot.pk) + "?status=open")) == [(5, "open")]
    # An unknown status lists them all.
    assert len(listed(client.get(url("proposals", bot.pk) + "?status=bogus"))) == 5


def test_no_proposals_yet(as_role, bot_with_history):
    response = as_role("reviewer").get(url("proposals", bot_with_history.pk))
    assert "No change has been proposed for this config yet." in text(response)
    response = as_role("reviewer").get(url("proposals", bot_with_history.pk) + "?status=open")
    assert "No proposal of this config is open." in text(response)


def test_the_list_paginates(as_role, bot_with_history, settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW, "ADMIN_HISTORY_PAGE_SIZE": 2}
    bot = several(bot_with_history)
    client = as_role("reviewer")
    assert [n for n, _ in listed(client.get(url("proposals", bot.pk)))] == [4, 3]
    assert [n for n, _ in listed(client.get(url("proposals", bot.pk) + "?p=3"))] == [1]
    assert "5 proposals" in text(client.get(url("proposals", bot.pk)))


def queries_of(client, page: str) -> list[str]:
    client.get(page)  # warm what every admin page caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    return [q["sql"] for q in queries]


def test_the_configs_list_costs_the_same_for_one_proposal_or_many(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("reviewer")
    propose(bot)
    one = queries_of(client, url("proposals", bot.pk))
    several(bot)
    many = queries_of(client, url("proposals", bot.pk))
    assert len(many) == len(one)
    assert [q for q in many if WRITE.match(q)] == []


# The link from the change form and the history -----------------------------------------


def test_change_form_and_history_link_the_proposals_with_the_count(as_role, bot_with_history):
    bot = several(bot_with_history)  # 3 awaiting: open, approved, rejected
    client = as_role("viewer")
    for page in (url("change", bot.pk), url("history", bot.pk)):
        html = client.get(page).content.decode()
        link = re.search(r'<a href="([^"]+)" class="cv-proposals-link">(.*?)</a>', html, re.S)
        assert link is not None, page
        assert link.group(1) == url("proposals", bot.pk)
        assert re.sub(r"<[^>]+>|\s+", " ", link.group(2)).split() == ["Proposals", "3", "open"]


def test_the_count_costs_no_query_of_its_own(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("viewer")
    before = queries_of(client, url("history", bot.pk))
    several(bot)
    after = queries_of(client, url("history", bot.pk))
    assert len(after) == len(before)
    assert not any("botconfigproposal" in q.lower() and "count" not in q.lower() for q in after)


# Every config's proposals --------------------------------------------------------------


def site_rows(response) -> list[str]:
    return re.findall(r'class="cv-proposal-link">([^<]+)</a>', response.content.decode())


def test_every_configs_proposals_awaiting_first(as_role, bot_with_history):
    several(bot_with_history)
    other = BotConfig.objects.create(name="Sales bot", slug="sales-bot")
    other.version_manager.create({"a": 1})
    propose(other, {"a": 2}, base=1, reason="sales")
    response = as_role("reviewer").get(reverse(SITE_LIST))
    assert response.status_code == 200
    html = response.content.decode()
    statuses = re.findall(r'data-status="(\w+)"', html)
    awaiting = [s in ("open", "approved", "rejected") for s in statuses]
    assert awaiting == sorted(awaiting, reverse=True)  # all awaiting ones come first
    assert len(statuses) == 6
    assert f'href="{url("proposal", other.pk, 1)}"' in html
    assert "Sales bot" in text(response)


def test_every_configs_proposals_filter_and_search(as_role, bot_with_history):
    several(bot_with_history)
    client = as_role("reviewer")
    response = client.get(reverse(SITE_LIST) + "?status__exact=withdrawn")
    assert site_rows(response) == ["Proposal 2"]
    response = client.get(reverse(SITE_LIST) + "?q=proposal+4")
    assert site_rows(response) == ["Proposal 4"]


def test_every_configs_proposals_cost_the_same_for_one_or_many(as_role, bot_with_history):
    client = as_role("reviewer")
    propose(bot_with_history)
    one = queries_of(client, reverse(SITE_LIST))
    several(bot_with_history)
    other = BotConfig.objects.create(name="Sales bot", slug="sales-bot")
    other.version_manager.create({"a": 1})
    propose(other, {"a": 2}, base=1)
    many = queries_of(client, reverse(SITE_LIST))
    assert len(many) == len(one)


def test_archived_configs_proposals_are_left_out(as_role, bot_with_history):
    several(bot_with_history)
    bot_with_history.archive(by="admin", reason="retired")
    assert site_rows(as_role("reviewer").get(reverse(SITE_LIST))) == []


@pytest.mark.parametrize("role", ["proposer", "reviewer", "editor", "viewer", "superuser"])
def test_whoever_sees_configs_sees_the_list_read_only(as_role, bot_with_history, role):
    several(bot_with_history)
    client = as_role(role)
    response = client.get(reverse(SITE_LIST))
    assert response.status_code == 200
    assert len(site_rows(response)) == 5
    html = response.content.decode()
    assert "botconfigproposal/add/" not in html
    assert 'name="action"' not in html  # no delete action
    assert "Proposals" in text(client.get(reverse("admin:index")))


@pytest.mark.parametrize("role", ["blind_proposer", "nobody"])
def test_without_seeing_configs_the_list_is_403(as_role, bot_with_history, role):
    several(bot_with_history)
    assert as_role(role).get(reverse(SITE_LIST)).status_code == 403


def test_the_proposal_admin_change_page_leads_to_the_review_page(as_role, bot_with_history):
    several(bot_with_history)
    from config_versions.models import BotConfigProposal

    row = BotConfigProposal.objects.get(number=3)
    client = as_role("reviewer")
    page = reverse("admin:config_versions_botconfigproposal_change", args=[row.pk])
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == url("proposal", bot_with_history.pk, 3)
    assert client.post(page, {}).status_code in (302, 403)
    assert BotConfigProposal.objects.get(number=3).status == "approved"
    delete = reverse("admin:config_versions_botconfigproposal_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert BotConfigProposal.objects.count() == 5
