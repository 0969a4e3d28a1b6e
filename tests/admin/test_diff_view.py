"""The side-by-side diff view: defaults, pickers, highlighting, folding, bad input."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from config_versions.diff_display import Fold
from tests.admin.helpers import text, url

pytestmark = pytest.mark.django_db


def cells(html: str, kind: str) -> list[str]:
    found = re.findall(rf'<td class="cv-code cv-{kind}">(.*?)</td>', html, re.S)
    return [re.sub(r"</?mark>", "", cell) for cell in found]


def test_defaults_to_previous_against_current(su_client, bot_with_history):
    response = su_client.get(url("diff", bot_with_history.pk))
    assert response.status_code == 200
    assert [v.number for v in response.context["versions"]] == [1, 2]
    html = response.content.decode()
    assert cells(html, "removed") == [
        "    &quot;model&quot;: &quot;gpt-4&quot;,",
        "    &quot;provider&quot;: &quot;openai&quot;",
    ]
    assert cells(html, "added") == [
        "    &quot;model&quot;: &quot;claude-3-sonnet&quot;,",
        "    &quot;provider&quot;: &quot;anthropic&quot;",
    ]
    # Changed lines are paired, and the part that differs is marked.
    assert "<mark>gpt-4</mark>" in html
    assert "<mark>claude-3-sonnet</mark>" in html
    page = text(response)
    assert "2 changes" in page
    assert 'changed /llm/model "gpt-4" → "claude-3-sonnet"' in page


def test_any_two_versions_either_way(su_client, bot_with_history):
    bot_with_history.version_manager.update({"name": "Other"}, reason="third")
    response = su_client.get(url("diff", bot_with_history.pk) + "?from=3&to=1")
    assert [v.number for v in response.context["versions"]] == [3, 1]
    assert "cv-added" in response.content.decode()


def test_summary_links_to_the_changed_line(su_client, bot_with_history):
    html = su_client.get(url("diff", bot_with_history.pk)).content.decode()
    anchors = re.findall(r'<a href="#(cv-[LR]\d+)"><code>([^<]+)</code>', html)
    assert anchors == [("cv-R3", "/llm/model"), ("cv-R4", "/llm/provider")]
    assert 'id="cv-R3"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=abc&to=2", "Enter a whole number."),
        ("?from=0&to=2", "Ensure this value is greater than or equal to 1."),
        ("?from=1&to=7", "There is no version 7; the newest is 2."),
        ("?from=&to=2", "This field is required."),
    ],
)
def test_bad_picks_are_a_400_with_a_message(su_client, bot_with_history, query, message):
    response = su_client.get(url("diff", bot_with_history.pk) + query)
    assert response.status_code == 400
    assert message in text(response)


def test_long_unchanged_runs_fold_and_unfold(su_client, bot):
    config = {f"key{n:02}": n for n in range(40)}
    bot.version_manager.create(config)
    bot.version_manager.update({**config, "key20": "changed"}, reason="one change")
    response = su_client.get(url("diff", bot.pk))
    folds = [row for row in response.context["display"].rows if isinstance(row, Fold)]
    # Line 22 changed: three lines of context each side of it; the rest folded.
    assert [(f.left_start, f.count) for f in folds] == [(1, 18), (26, 17)]
    html = response.content.decode()
    assert 'href="?from=1&amp;to=2&amp;expand=1#cv-L1"' in html
    assert "Show 18 unchanged lines" in text(response)

    unfolded = su_client.get(url("diff", bot.pk) + "?from=1&to=2&expand=1")
    folds = [row for row in unfolded.context["display"].rows if isinstance(row, Fold)]
    assert [(f.left_start, f.count) for f in folds] == [(26, 17)]
    everything = su_client.get(url("diff", bot.pk) + "?from=1&to=2&expand=all")
    assert not [row for row in everything.context["display"].rows if isinstance(row, Fold)]
    assert "fold unchanged lines" in text(everything)


@override_settings(CONFIG_VERSIONS={"ADMIN_DIFF_CONTEXT": 1})
def test_context_setting(su_client, bot):
    config = {f"key{n:02}": n for n in range(40)}
    bot.version_manager.create(config)
    bot.version_manager.update({**config, "key20": "changed"})
    display = su_client.get(url("diff", bot.pk)).context["display"]
    assert [(f.left_start, f.count) for f in display.rows if isinstance(f, Fold)] == [
        (1, 20),
        (24, 19),
    ]


def test_identical_versions(su_client, bot_with_history):
    response = su_client.get(url("diff", bot_with_history.pk) + "?from=2&to=2")
    assert "No differences" in text(response)


def test_single_version_and_no_version(su_client, bot):
    response = su_client.get(url("diff", bot.pk))
    assert response.status_code == 200
    assert "This config has no versions yet." in text(response)
    bot.version_manager.create({"a": 1})
    response = su_client.get(url("diff", bot.pk))
    assert response.status_code == 200
    assert "No differences" in text(response)


def test_rollback_buttons_for_the_versions_shown(su_client, bot_with_history):
    bot_with_history.version_manager.update({"v": 3})
    # The buttons lead to the rollback's confirmation page (a GET), which posts.
    html = su_client.get(url("diff", bot_with_history.pk) + "?from=1&to=2").content.decode()
    links = re.findall(r'<a href="([^"]+)" class="button cv-rollback-button">', html)
    assert links == [url("rollback", bot_with_history.pk, n) for n in (1, 2)]
    assert '<form method="post"' not in html
    html = su_client.get(url("diff", bot_with_history.pk)).content.decode()
    assert re.findall(r'<a href="([^"]+)" class="button cv-rollback-button">', html) == [
        url("rollback", bot_with_history.pk, 2)
    ]


def test_no_rollback_buttons_without_permission(client_as, bot_with_history):
    html = client_as("viewer").get(url("diff", bot_with_history.pk)).content.decode()
    assert "cv-rollback" not in html.replace("cv-rollback-button", "")
    assert "Roll back to version" not in html


def test_config_values_are_escaped(su_client, bot):
    bot.version_manager.create({"greeting": "hi"})
    bot.version_manager.update(
        {"greeting": "<script>alert(1)</script>", "<img src=x onerror=alert(2)>": 1},
        reason="<b>xss</b>",
    )
    html = su_client.get(url("diff", bot.pk)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "<b>xss</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_older_and_newer_links(su_client, bot_with_history):
    bot_with_history.version_manager.update({"v": 3})
    response = su_client.get(url("diff", bot_with_history.pk) + "?from=1&to=2")
    assert response.context["older_url"] == ""
    assert response.context["newer_url"].endswith("?from=2&to=3")
