"""The review page of a release (a proposal that edits nothing from its base version)
and of a proposal whose target label serves an older version: what the label's
followers would get is shown, and a release says it releases its base as it is."""

from __future__ import annotations

import pytest
from django.test import override_settings

from config_versions.models import BotConfig
from tests.admin.helpers import text, url
from tests.admin.test_proposals import LABELS, OPUS, REVIEW, Roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


@pytest.fixture
def as_role(db):
    return Roles()


@pytest.fixture
def released(bot_with_history):
    """Support bot at v2; production at v1, set before it came under review."""
    with override_settings(CONFIG_VERSIONS={"LABELS": LABELS}):
        bot_with_history.version_manager.set_label("production", 1, created_by="ann")
    bot_with_history.refresh_from_db()
    return bot_with_history


def test_a_release_of_an_older_version_says_so_and_releases_just_that(as_role, released):
    manager = released.version_manager
    v2 = manager.get_version(2)
    assert v2 is not None
    found = manager.propose(v2.config, 2, "Release v2", created_by="proposer", label="production")
    manager.update(OPUS, reason="unreviewed", created_by="admin")  # v3
    manager.review_proposal(found.id, "approve", "reviewer")
    response = as_role("editor").get(url("proposal", released.pk, found.id))
    assert response.status_code == 200
    page = text(response)
    assert "it releases version 2 as it is" in page
    assert "production then points at version 2." in page
    assert 'value="Apply: move production to version 2"' in response.content.decode()
    assert "merge cleanly" not in page
    response = as_role("editor").post(
        url("proposal_apply", released.pk, found.id),
        {"apply-revision": 1, "apply-reason": ""},
    )
    assert response.status_code == 302
    fresh = BotConfig.objects.get(pk=released.pk).version_manager
    assert fresh.get_label("production") == 2
    assert fresh.current_version == 3


def test_a_change_for_a_label_shows_what_the_label_would_get(as_role, released):
    manager = released.version_manager
    found = manager.propose(
        {**manager.get_version(2).config, "greeting": "Hi"},
        2,
        "Greeting",
        created_by="proposer",
        label="production",
    )
    response = as_role("reviewer").get(url("proposal", released.pk, found.id))
    page = text(response)
    # production serves v1: its followers get v2's changes too, not only the greeting.
    assert "What production would change" in page
    assert "from version 1, which it serves now" in page
    html = response.content.decode()
    assert 'id="cv-label-diff"' in html
    assert "cv-label-" in html  # the table's own ids
