"""Proposing from the change form: "Propose change" where others see "Save", and what each
kind of user sees on a proposal's review page.

The steps of the review page are in test_proposals_steps.py, the lists in
test_proposals_lists.py, direct writes under REVIEW["all_writes"] in
test_proposals_writes.py. The fixtures here are shared with them.
"""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from config_versions.models import BotConfig, BotConfigProposal
from tests.admin.helpers import change_data, messages_of, text, url, version_numbers

pytestmark = pytest.mark.django_db

LABELS = {"staging": {}, "production": {"protected": True}}
REVIEW = {"labels": ["production"], "required_approvals": 1}
PASSWORD = "pw-for-tests"
V2 = {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "claude-3-sonnet"}}
OPUS = {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "opus"}}

# Each kind of user and the permissions it holds (superuser: all).
ROLES: dict[str, tuple[str, ...]] = {
    "proposer": ("view_botconfig", "propose_botconfig"),
    "other_proposer": ("view_botconfig", "propose_botconfig"),
    "reviewer": ("view_botconfig", "review_botconfig"),
    "editor": ("change_botconfig", "promote_botconfig", "promote_protected_botconfig"),
    "viewer": ("view_botconfig",),
    # May change configs and move labels, but not the protected ones.
    "release_editor": ("change_botconfig", "promote_botconfig"),
    "blind_proposer": ("propose_botconfig",),  # may propose, may not see configs
    "nobody": (),
}


# The other test modules of proposals declare these three fixtures the same way.
@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


def make_user(role: str, *extra: str):
    model = get_user_model()
    if role == "superuser":
        return model.objects.create_superuser(role, f"{role}@example.com", PASSWORD)
    user = model.objects.create_user(role, f"{role}@example.com", PASSWORD, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="config_versions", codename__in=(*ROLES[role], *extra)
        )
    )
    return user


class Roles:
    """``roles("reviewer")``: a logged-in client of that kind of user (one per name)."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}

    def __call__(self, role: str, *extra: str) -> Client:
        if role not in self.clients:
            client = Client()
            client.force_login(make_user(role, *extra))
            self.clients[role] = client
        return self.clients[role]


@pytest.fixture
def as_role(db):
    return Roles()


def propose(bot: BotConfig, config=None, base: int = 2, *, by="proposer", label=None, reason="r"):
    """A proposal made through the manager, as the API or another page would."""
    return bot.version_manager.propose(
        OPUS if config is None else config, base, reason=reason, created_by=by, label=label
    )


def with_proposal(bot: BotConfig) -> BotConfig:
    """``bot`` (at v2) with proposal 1 by "proposer": opus, moving production."""
    propose(bot, label="production", reason="Opus answers better")
    return bot


@pytest.fixture
def proposed(bot_with_history):
    return with_proposal(bot_with_history)


def propose_data(bot: BotConfig, config: dict, **extra) -> dict:
    data = change_data(bot, json.dumps(config), reason="Opus answers better", **extra)
    del data["_save"]
    data["_propose"] = "Propose change"
    return data


def buttons(response) -> set[str]:
    return set(re.findall(r'<input type="submit"[^>]*name="(_\w+)"', response.content.decode()))


# The change form ------------------------------------------------------------------------


def test_a_proposer_sees_propose_change_where_others_see_save(as_role, bot_with_history):
    bot = bot_with_history
    response = as_role("proposer").get(url("change", bot.pk))
    assert response.status_code == 200
    assert buttons(response) == {"_propose"}
    html = response.content.decode()
    assert '<textarea name="config"' in html  # the config is editable
    assert 'name="expected_version" value="2"' in html
    # The config's own fields are no part of a proposal: read-only.
    assert 'name="name"' not in html
    assert 'name="slug"' not in html
    options = re.findall(r'<option value="([^"]*)"', html)
    assert options == ["", "staging", "production"]
    page = text(response)
    assert "Your change is proposed for review" in page
    assert "Nothing is saved until the proposal is approved and applied." in page


@pytest.mark.parametrize("role", ["editor", "superuser"])
def test_editors_see_save(as_role, bot_with_history, role):
    response = as_role(role).get(url("change", bot_with_history.pk))
    assert "_save" in buttons(response)
    assert "_propose" not in buttons(response)
    assert 'name="target_label"' not in response.content.decode()


@pytest.mark.parametrize("role", ["reviewer", "viewer"])
def test_who_may_not_propose_sees_the_config_read_only(as_role, bot_with_history, role):
    response = as_role(role).get(url("change", bot_with_history.pk))
    assert response.status_code == 200
    assert buttons(response) == set()
    assert '<textarea name="config"' not in response.content.decode()
    assert as_role(role).post(url("change", bot_with_history.pk), {}).status_code == 403


@pytest.mark.parametrize("role", ["blind_proposer", "nobody"])
def test_without_seeing_configs_the_change_form_is_403(as_role, bot_with_history, role):
    bot = bot_with_history
    assert as_role(role).get(url("change", bot.pk)).status_code == 403
    response = as_role(role).post(url("change", bot.pk), propose_data(bot, OPUS))
    assert response.status_code == 403
    assert not BotConfigProposal.objects.exists()


def test_proposing_submits_a_proposal_and_writes_no_version(as_role, bot_with_history):
    bot = bot_with_history
    response = as_role("proposer").post(
        url("change", bot.pk), propose_data(bot, OPUS, target_label="production"), follow=True
    )
    assert response.redirect_chain == [(url("proposal", bot.pk, 1), 302)]
    assert messages_of(response) == [
        "Proposed your change as proposal 1, made from version 2. It becomes a version once "
        "it is approved and applied. Applying it moves production there."
    ]
    assert version_numbers(bot) == [1, 2]
    found = bot.version_manager.get_proposal(1)
    assert (found.author, found.base_version, found.label) == ("proposer", 2, "production")
    assert (found.config, found.reason, found.status) == (OPUS, "Opus answers better", "open")
    assert LogEntry.objects.get().get_change_message() == "Proposed a change: proposal 1."
    bot.refresh_from_db()
    assert bot.name == "Support bot"


def test_a_form_loaded_before_a_newer_version_proposes_from_the_version_it_showed(
    as_role, bot_with_history
):
    bot = bot_with_history
    client = as_role("proposer")
    loaded = client.get(url("change", bot.pk))
    assert 'name="expected_version" value="2"' in loaded.content.decode()
    bot.version_manager.update({"name": "SupportBot", "v": 3}, reason="meanwhile")
    data = propose_data(bot, OPUS)
    data["expected_version"] = "2"
    response = client.post(url("change", bot.pk), data)
    assert response.status_code == 302
    assert bot.version_manager.get_proposal(1).base_version == 2
    assert version_numbers(bot) == [1, 2, 3]


def test_a_proposer_posting_save_writes_nothing_and_is_told(as_role, bot_with_history):
    bot = bot_with_history
    response = as_role("proposer").post(
        url("change", bot.pk), change_data(bot, json.dumps(OPUS), reason="sneaky")
    )
    assert response.status_code == 200
    assert (
        "You may propose changes but not save them directly. Nothing was saved: press "
        "“Propose change” to propose it." in text(response)
    )
    assert buttons(response) == {"_propose"}
    assert version_numbers(bot) == [1, 2]
    assert not BotConfigProposal.objects.exists()


def test_the_config_own_fields_cannot_be_changed_by_proposing(as_role, bot_with_history):
    bot = bot_with_history
    data = propose_data(bot, OPUS, name="Renamed", slug="renamed", description="new")
    assert as_role("proposer").post(url("change", bot.pk), data).status_code == 302
    bot.refresh_from_db()
    assert (bot.name, bot.slug, bot.description) == ("Support bot", "support-bot", "")


def test_a_config_the_schema_refuses_is_not_proposed(as_role, bot_with_history):
    bot = bot_with_history
    bot.schema = {"type": "object", "properties": {"llm": {"type": "object"}}, "required": ["llm"]}
    bot.save()
    response = as_role("proposer").post(
        url("change", bot.pk), propose_data(bot, {"name": "SupportBot", "llm": 3})
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["config"]
    assert any("/llm" in error and "Line 2" in error for error in errors), errors
    assert not BotConfigProposal.objects.exists()


def test_invalid_json_and_an_unknown_label_are_form_errors(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("proposer")
    data = propose_data(bot, OPUS)
    data["config"] = '{"name": '
    response = client.post(url("change", bot.pk), data)
    assert "Invalid JSON" in " ".join(response.context["adminform"].form.errors["config"])
    response = client.post(url("change", bot.pk), propose_data(bot, OPUS, target_label="latest"))
    assert "target_label" in response.context["adminform"].form.errors
    assert not BotConfigProposal.objects.exists()


def test_unicode_is_kept_and_shown(as_role, bot_with_history):
    bot = bot_with_history
    config = {"name": "Ünïcode bøt 🤖", "llm": {"provider": "anthropic", "model": "opus"}}
    data = propose_data(bot, config)
    data["reason"] = "Grüße, 你好 — <b>not bold</b>"
    response = as_role("proposer").post(url("change", bot.pk), data, follow=True)
    assert bot.version_manager.get_proposal(1).config == config
    page = response.content.decode()
    assert "Grüße, 你好 — &lt;b&gt;not bold&lt;/b&gt;" in page
    assert "Ünïcode bøt 🤖" in page


def test_without_labels_there_is_no_target_label(as_role, bot_with_history, settings):
    settings.CONFIG_VERSIONS = {"REVIEW": {"labels": []}}
    bot = bot_with_history
    client = as_role("proposer")
    assert 'name="target_label"' not in client.get(url("change", bot.pk)).content.decode()
    assert client.post(url("change", bot.pk), propose_data(bot, OPUS)).status_code == 302
    assert bot.version_manager.get_proposal(1).label is None


def test_an_archived_config_takes_no_proposal(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("proposer")
    bot.archive(by="admin", reason="retired")
    response = client.get(url("change", bot.pk))
    assert buttons(response) == set()
    response = client.post(url("change", bot.pk), propose_data(bot, OPUS), follow=True)
    assert "is archived, so nothing was saved" in " ".join(messages_of(response))
    assert not BotConfigProposal.objects.exists()


def test_archived_between_page_and_post(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("proposer")
    client.get(url("change", bot.pk))
    BotConfig.objects.filter(pk=bot.pk).update(archived_at="2026-01-01T00:00:00Z")
    response = client.post(url("change", bot.pk), propose_data(bot, OPUS))
    assert response.status_code == 302
    assert not BotConfigProposal.objects.exists()


# The review page, for each kind of user --------------------------------------------------


def steps_shown(response) -> set[str]:
    html = response.content.decode()
    found = {
        step
        for step, marker in {
            "review": 'id="cv-review-form"',
            "apply": 'id="cv-apply-form"',
            "withdraw": 'id="cv-withdraw-form"',
            "revise": "cv-revise-button",
        }.items()
        if marker in html
    }
    return found


@pytest.mark.parametrize(
    ("role", "open_steps", "approved_steps"),
    [
        ("proposer", {"withdraw", "revise"}, {"withdraw", "revise"}),
        ("other_proposer", set(), set()),
        ("reviewer", {"review"}, {"review"}),
        ("editor", {"withdraw"}, {"apply", "withdraw"}),
        ("superuser", {"review", "withdraw"}, {"review", "apply", "withdraw"}),
        ("viewer", set(), set()),
    ],
)
def test_each_kind_of_user_sees_the_steps_it_may_take(
    as_role, proposed, role, open_steps, approved_steps
):
    client = as_role(role)
    response = client.get(url("proposal", proposed.pk, 1))
    assert response.status_code == 200
    assert steps_shown(response) == open_steps
    proposed.version_manager.review_proposal(1, "approve", "someone")
    assert steps_shown(client.get(url("proposal", proposed.pk, 1))) == approved_steps


def test_the_author_is_told_someone_else_reviews(as_role, proposed):
    client = as_role("proposer", "review_botconfig")
    page = text(client.get(url("proposal", proposed.pk, 1)))
    assert "You wrote this proposal: someone else reviews it." in page


def test_with_self_approval_the_author_may_review(as_role, proposed, settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": {**REVIEW, "allow_self_approval": True}}
    client = as_role("proposer", "review_botconfig")
    assert "review" in steps_shown(client.get(url("proposal", proposed.pk, 1)))


def test_who_may_approve_but_not_apply_is_told_why(as_role, proposed):
    proposed.version_manager.review_proposal(1, "approve", "someone")
    response = as_role("release_editor").get(url("proposal", proposed.pk, 1))
    assert "apply" not in steps_shown(response)
    page = text(response)
    assert "Proposal 1 moves label 'production'" in page
    assert "promote_protected_botconfig" in page


@pytest.mark.parametrize("role", ["blind_proposer", "nobody"])
def test_the_review_page_needs_seeing_configs(as_role, proposed, role):
    assert as_role(role).get(url("proposal", proposed.pk, 1)).status_code == 403
    assert as_role(role).get(url("proposals", proposed.pk)).status_code == 403


def test_the_review_page_shows_what_it_proposes(as_role, proposed):
    response = as_role("reviewer").get(url("proposal", proposed.pk, 1))
    page = text(response)
    assert "Proposal 1: Support bot" in page
    assert "Author proposer" in page
    assert "Made from version 2 (the newest)" in page
    assert "production moves to the version it becomes" in page
    assert "Approvals 0 of 1 needed" in page
    assert "Opus answers better" in page
    assert "It was made from the newest version, 2: applying writes its config as version 3." in (
        page
    )
    # One diff, against the base (the newest version): the model changed.
    assert [d.key for d in response.context["diffs"]] == ["base"]
    html = response.content.decode()
    assert re.search(r'<td class="cv-code cv-removed">.*claude-3-sonnet', html)
    assert re.search(r'<td class="cv-code cv-added">.*opus', html)
    assert "Proposal 1, revision 1" in page  # the right side's heading
    # A line of links on Django 5.2, a list on Django 6.
    crumbs = re.search(r'<(div|ol) class="breadcrumbs">(.*?)</\1>', html, re.S)
    assert crumbs is not None
    assert "Proposals" in crumbs.group(2)
    assert url("proposals", proposed.pk) in crumbs.group(2)


def test_after_the_config_moved_both_diffs_and_the_merge_preview(as_role, proposed):
    proposed.version_manager.update({**V2, "tone": "warm"}, reason="meanwhile", created_by="ann")
    response = as_role("reviewer").get(url("proposal", proposed.pk, 1))
    assert [d.key for d in response.context["diffs"]] == ["base", "current"]
    page = text(response)
    assert "Made from version 2 1 version behind the newest" in page
    assert "Its edits merge cleanly onto version 3: applying writes version 4" in page
    merged = response.context["merged"]
    assert merged.display.change_count == 1  # what applying adds to version 3: the model
    # The tables' line cells carry ids of their own: one page, three tables.
    html = response.content.decode()
    ids = re.findall(r' id="(cv-[a-z]+-[LR]\d+)"', html)
    assert len(ids) == len(set(ids))
    assert {i.split("-")[1] for i in ids} == {"base", "current", "merged"}


def test_conflicts_are_listed_per_path_with_the_three_values(as_role, proposed):
    proposed.version_manager.update(
        {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "haiku"}},
        reason="meanwhile",
    )
    response = as_role("reviewer").get(url("proposal", proposed.pk, 1))
    rows = response.context["conflicts"]
    assert [(c.path, c.base, c.proposed, c.newest) for c in rows] == [
        ("/llm/model", '"claude-3-sonnet"', '"opus"', '"haiku"')
    ]
    assert "applying writes nothing until it is revised from version 3" in text(response)
    assert response.context["merged"] is None


def test_folds_of_one_table_unfold_alone(as_role, bot_with_history):
    bot = bot_with_history
    big = {f"k{n:02}": n for n in range(40)}
    bot.version_manager.update(big)
    propose(bot, {**big, "k39": "changed"}, base=3)
    bot.version_manager.update({**big, "k00": "moved"})
    client = as_role("reviewer")
    html = client.get(url("proposal", bot.pk, 1)).content.decode()
    links = re.findall(r'<tr class="cv-fold"><td colspan="4"><a href="([^"]+)"', html)
    base_links = [link for link in links if "expand_base=" in link]
    assert base_links
    assert all("#cv-base-L" in link for link in base_links)
    unfolded = client.get(url("proposal", bot.pk, 1) + "?expand_base=all").context
    assert not any("cv-fold" in str(d.rows_html) for d in unfolded["diffs"] if d.key == "base")
    assert any("cv-fold" in str(d.rows_html) for d in unfolded["diffs"] if d.key == "current")


def test_a_missing_proposal_is_404_and_a_missing_config_goes_to_the_index(as_role, proposed):
    client = as_role("reviewer")
    assert client.get(url("proposal", proposed.pk, 9)).status_code == 404
    assert client.get(url("proposal", 9999, 1)).status_code == 302


def test_values_are_escaped(as_role, bot_with_history):
    bot = bot_with_history
    propose(bot, {"<script>x</script>": "<img src=x>"}, reason="<script>alert(1)</script>")
    bot.version_manager.review_proposal(1, "reject", "<b>eve</b>", comment="<i>no</i>")
    html = as_role("reviewer").get(url("proposal", bot.pk, 1)).content.decode()
    assert "<script>alert" not in html
    assert "<b>eve</b>" not in html
    assert "<i>no</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
