"""Promote to …, in a real browser: the history's badges and buttons, the confirmation
with its diff, the move, and badges readable in light and dark mode. With CV_SCREENSHOTS
set, the confirmation and the history with badges are also saved there, light and dark.
"""

from __future__ import annotations

import re

import pytest

from config_versions.models import BotConfig, BotConfigLabelMove
from tests.browser.support import make_history
from tests.browser.test_admin_browser import admin_url
from tests.browser.test_rollback_and_changes import shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {"staging": {}, "production": {"protected": True}}

# The WCAG contrast of each badge's text on its background, computed by the browser.
CONTRASTS = """() => {
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
  return Array.from(document.querySelectorAll(".cv-badge-label")).map((badge) => {
    const style = getComputedStyle(badge);
    const [a, b] = [luminance(style.color), luminance(style.backgroundColor)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}"""


@pytest.fixture(autouse=True)
def _labels(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS}


@pytest.fixture
def bot(users):
    """Support bot at v5 (see make_history); production at v2, staging at v5."""
    created = BotConfig.objects.create(
        name="Support bot",
        slug="support-bot",
        description="Answers customer questions on the web chat and by email.",
    )
    make_history(created, users)
    manager = created.get_version_manager(user=users["bob"])
    manager.set_label("production", 2, reason="Claude 3.5 in production", created_by="bob")
    manager.set_label("staging", 5, reason="Try more context", created_by="alice")
    created.refresh_from_db()
    return created


def badges(page, version: int) -> list[str]:
    row = page.locator(f"tr.cv-version-row[data-version='{version}'] .cv-badge-label")
    return [name.strip() for name in row.all_inner_texts()]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_promote_from_the_history(signed_in, bot, scheme):
    page = signed_in("alice", color_scheme=scheme)
    page.goto(admin_url(bot, "history"))
    assert badges(page, 2) == ["production"]
    assert badges(page, 5) == ["staging"]
    summary = " ".join(page.inner_text("#cv-labels").split())
    assert "production v2, 3 versions behind latest" in summary
    shoot(page, "history-labels", scheme)

    page.locator(
        "tr.cv-version-row[data-version='5'] a.cv-promote-button[data-label='production']"
    ).click()
    page.wait_for_url(re.compile(r"/promote/production/5/$"))
    content = page.inner_text("#content")
    assert "Promote Support bot version 5 to production?" in content
    assert "production points at version 2 now." in content
    # The diff preview: what production serves now on the left, version 5 on the right.
    assert page.locator("td.cv-code.cv-removed").count() > 0
    assert "4" in page.locator("td.cv-code.cv-removed mark").first.inner_text()
    assert "6" in page.locator("td.cv-code.cv-added mark").first.inner_text()
    assert page.input_value("#id_reason") == "Promote version 5 to production"
    shoot(page, "promote-confirmation", scheme)

    page.fill("#id_reason", "More context helped on staging")
    page.click("#cv-promote-form input[type=submit]")
    page.wait_for_url(re.compile(r"/history/$"))
    assert "production now points at version 5" in page.inner_text(".messagelist").lower()
    assert badges(page, 5) == ["staging", "production"]
    assert badges(page, 2) == []
    move = BotConfigLabelMove.objects.get(bot_config=bot, sequence=3)
    assert (move.label, move.from_version, move.to_version) == ("production", 2, 5)
    assert (move.reason, move.created_by) == ("More context helped on staging", "alice")


def test_a_move_made_meanwhile_is_refused_on_the_page(signed_in, bot, users):
    page = signed_in("alice")
    page.goto(admin_url(bot, "promote/production/5"))
    bot.get_version_manager(user=users["bob"]).set_label("production", 3, created_by="bob")
    page.click("#cv-promote-form input[type=submit]")
    error = page.inner_text(".errornote")
    assert "production was moved to version 3 after this page showed it at version 2" in error
    assert "Now: version 3" in page.inner_text(".cv-versions")
    assert BotConfigLabelMove.objects.filter(bot_config=bot).count() == 3


@pytest.mark.parametrize(
    ("scheme", "theme"), [("light", None), ("dark", None), ("light", "dark"), ("dark", "light")]
)
def test_badges_are_readable_in_light_and_dark(signed_in, bot, scheme, theme):
    page = signed_in("alice", color_scheme=scheme)
    if theme:  # the admin's theme toggle, against the system's scheme
        page.add_init_script(f"localStorage.setItem('theme', '{theme}')")
    page.goto(admin_url(bot, "history"))
    if theme:
        assert page.evaluate("document.documentElement.dataset.theme") == theme
    contrasts = page.evaluate(CONTRASTS)
    assert len(contrasts) >= 4  # summary line and rows
    assert min(contrasts) >= 4.5, contrasts
