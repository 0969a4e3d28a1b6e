"""Propose → review → apply in a real browser, by three people: a proposer (who may only
propose), a reviewer and an editor; the version and the label it results in; badges
readable in light and dark mode. With CV_SCREENSHOTS set, the review page is saved
there too, light and dark."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from config_versions.models import BotConfig
from tests.browser.support import PASSWORD, make_history
from tests.browser.test_admin_browser import admin_url, edit_config
from tests.browser.test_rollback_and_changes import shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {"staging": {}, "production": {"protected": True}}
REVIEW = {"labels": ["production"], "required_approvals": 1}
PEOPLE = {
    "pat": ("view_botconfig", "propose_botconfig"),
    "rita": ("view_botconfig", "review_botconfig"),
    "ed": ("change_botconfig", "promote_botconfig", "promote_protected_botconfig"),
}

# The WCAG contrast of each badge's text on its background, computed by the browser.
CONTRASTS = """(selector) => {
  const canvas = document.createElement("canvas").getContext("2d");
  const rgb = (css) => {
    canvas.clearRect(0, 0, 1, 1);
    canvas.fillStyle = css;
    canvas.fillRect(0, 0, 1, 1);
    return Array.from(canvas.getImageData(0, 0, 1, 1).data.slice(0, 3));
  };
  const luminance = (css) => {
    const [r, g, b] = rgb(css).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  return Array.from(document.querySelectorAll(selector)).map((badge) => {
    const style = getComputedStyle(badge);
    const [a, b] = [luminance(style.color), luminance(style.backgroundColor)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}"""


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}


@pytest.fixture
def people(users):
    model = get_user_model()
    for name, codenames in PEOPLE.items():
        user = model.objects.create_user(name, f"{name}@example.com", PASSWORD, is_staff=True)
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="config_versions", codename__in=codenames
            )
        )
    return users


@pytest.fixture
def bot(people):
    """Support bot at v5 (see make_history); production not set."""
    created = BotConfig.objects.create(
        name="Support bot",
        slug="support-bot",
        description="Answers customer questions on the web chat and by email.",
    )
    make_history(created, people)
    return BotConfig.objects.get(pk=created.pk)


def messages(page) -> str:
    return " ".join(page.inner_text(".messagelist").split())


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_propose_review_apply(signed_in, bot, people, scheme):
    # The proposer: "Propose change" where an editor sees "Save".
    pat = signed_in("pat", color_scheme=scheme)
    pat.goto(admin_url(bot, "change"))
    assert pat.locator("input[name=_save]").count() == 0
    assert "Your change is proposed for review" in pat.inner_text(".cv-proposing-note")
    edit_config(pat, lambda c: c["prompts"].update(greeting="Hello! What can I do for you?"))
    pat.select_option("#id_target_label", "production")
    pat.fill("#id_reason", "A warmer greeting")
    pat.click("input[name=_propose]")
    pat.wait_for_url(re.compile(r"/proposals/1/$"))
    assert "Proposed your change as proposal 1, made from version 5." in messages(pat)
    assert pat.locator("#cv-review-form").count() == 0  # not for its author
    assert bot.versions.count() == 5

    # Meanwhile alice saves version 6: the proposal will be merged onto it.
    newer = bot.version_manager.current_config
    newer["retrieval"]["top_k"] = 8
    bot.get_version_manager(user=people["alice"]).update(
        newer, reason="Even more context", created_by="alice"
    )

    # The reviewer sees both diffs and what applying would write, and approves.
    rita = signed_in("rita", color_scheme=scheme)
    rita.goto(admin_url(bot, "proposals"))
    rita.click("tr.cv-proposal-row[data-number='1'] a")
    rita.wait_for_url(re.compile(r"/proposals/1/$"))
    preview = " ".join(rita.inner_text("#cv-merge-preview").split())
    assert "Its edits merge cleanly onto version 6: applying writes version 7" in preview
    assert rita.locator("#cv-base-summary").count() == 1
    assert rita.locator("#cv-current-summary").count() == 1
    assert "Hello! What can I do for you?" in rita.inner_text("table.cv-diff >> nth=0")
    assert rita.locator("#cv-apply-form").count() == 0  # reviewing is not applying
    rita.fill("#id_comment", "Reads well; tested on staging transcripts.")
    shoot(rita, "proposal-review", scheme)
    rita.click("button.cv-approve")
    rita.wait_for_url(re.compile(r"/proposals/1/$"))
    assert "You approved revision 1 of proposal 1." in messages(rita)
    assert rita.get_attribute("#content-main", "data-status") == "approved"

    # The editor applies it: version 7, merged onto 6, and production moves there.
    ed = signed_in("ed", color_scheme=scheme)
    ed.goto(admin_url(bot, "proposals/1"))
    shoot(ed, "proposal-approved", scheme)
    ed.fill("#id_apply-reason", "Warmer greeting in production")
    ed.click("#cv-apply-form input[type=submit]")
    ed.wait_for_url(re.compile(r"/proposals/1/$"))
    assert (
        "Applied proposal 1 as version 7: its edits were merged onto version 6. production "
        "now points at version 7." in messages(ed)
    )
    written = bot.version_manager.get_version(7)
    assert written.config["prompts"]["greeting"] == "Hello! What can I do for you?"
    assert written.config["retrieval"]["top_k"] == 8
    assert (written.reason, written.created_by) == ("Warmer greeting in production", "ed")
    assert written.metadata["merged_onto"] == 6
    assert bot.version_manager.get_label("production") == 7
    ed.goto(admin_url(bot, "history"))
    badges = ed.locator("tr.cv-version-row[data-version='7'] .cv-badge-label").all_inner_texts()
    assert [b.strip() for b in badges] == ["production"]


def test_a_stale_page_applies_nothing(signed_in, bot):
    bot.version_manager.propose(
        {**bot.version_manager.current_config, "tone": "warm"},
        5,
        reason="warm",
        created_by="pat",
        label="production",
    )
    bot.version_manager.review_proposal(1, "approve", "rita")
    ed = signed_in("ed")
    ed.goto(admin_url(bot, "proposals/1"))
    # The author revises meanwhile, and it is approved again: the page showed revision 1.
    bot.version_manager.revise(
        1, {**bot.version_manager.current_config, "tone": "cold"}, 5, created_by="pat"
    )
    bot.version_manager.review_proposal(1, "approve", "rita")
    ed.click("#cv-apply-form input[type=submit]")
    error = " ".join(ed.inner_text(".cv-step-refused").split())
    assert "after this page showed revision 1 (revision 2 is current now)" in error
    assert bot.versions.count() == 5
    assert ed.get_attribute("#content-main", "data-revision") == "2"


@pytest.mark.parametrize(
    ("scheme", "theme"), [("light", None), ("dark", None), ("light", "dark"), ("dark", "light")]
)
def test_badges_are_readable_in_light_and_dark(signed_in, bot, scheme, theme):
    manager = bot.version_manager
    config = manager.current_config
    for n in range(1, 5):
        manager.propose({**config, "n": n}, 5, reason=f"p{n}", created_by="pat")
    manager.review_proposal(1, "approve", "rita")
    manager.review_proposal(2, "reject", "rita")
    manager.withdraw_proposal(3, by="pat")
    manager.review_proposal(4, "approve", "rita")
    manager.apply_proposal(4, applied_by="ed")
    page = signed_in("alice", color_scheme=scheme)
    if theme:  # the admin's theme toggle, against the system's scheme
        page.add_init_script(f"localStorage.setItem('theme', '{theme}')")
    page.goto(admin_url(bot, "proposals"))
    contrasts = page.evaluate(CONTRASTS, ".cv-status")
    assert len(contrasts) == 9  # the five statuses of the filter line, four rows
    assert min(contrasts) >= 4.5, contrasts
    page.goto(admin_url(bot, "proposals/1"))
    contrasts = page.evaluate(CONTRASTS, ".cv-status, .cv-decision-approve, .cv-ready")
    assert min(contrasts) >= 4.5, contrasts
