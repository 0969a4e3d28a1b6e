"""The diff page's summary of changes says what it leaves out; number columns fit."""

from __future__ import annotations

import re

import pytest

from tests.admin.helpers import text, url

pytestmark = pytest.mark.django_db


def listed(html: str) -> list[str]:
    return re.findall(r'<li class="cv-op-\w+">.*?<code>([^<]*)</code>', html)


def with_changes(bot, count: int) -> None:
    """``count`` changed keys, each between nine unchanged ones."""
    old = {f"k{n:04}": n for n in range(count * 10)}
    new = {key: value + 1 if value % 10 == 0 else value for key, value in old.items()}
    bot.version_manager.create(old)
    bot.version_manager.update(new, reason="some")


def test_a_few_changes_are_all_listed_openly(su_client, bot):
    with_changes(bot, 11)
    response = su_client.get(url("diff", bot.pk))
    html = response.content.decode()
    assert "11 changes" in text(response)
    assert listed(html) == [f"/k{n * 10:04}" for n in range(11)]
    assert "<details" not in html
    assert "not listed" not in text(response)


def test_more_changes_sit_behind_a_toggle_that_counts_them(su_client, bot):
    with_changes(bot, 40)
    response = su_client.get(url("diff", bot.pk))
    html = response.content.decode()
    assert listed(html) == [f"/k{n * 10:04}" for n in range(40)]
    opened, hidden = html.split('<details class="cv-summary-more">')
    assert len(listed(opened)) == 10
    assert "<summary>Show 30 more changes</summary>" in hidden
    assert len(listed(hidden)) == 30


def test_changes_past_the_listed_ones_are_counted_and_offered(su_client, bot):
    with_changes(bot, 250)
    response = su_client.get(url("diff", bot.pk))
    page = text(response)
    assert "250 changes" in page
    assert len(listed(response.content.decode())) == 200
    assert "50 more changes are not listed here; the comparison below shows them." in page
    link = re.search(
        r'<a href="([^"]+)" class="cv-all-changes">List all 250 changes</a>',
        response.content.decode(),
    )
    assert link

    everything = su_client.get(url("diff", bot.pk) + link.group(1).replace("&amp;", "&"))
    assert everything.status_code == 200
    assert len(listed(everything.content.decode())) == 250
    assert "not listed" not in text(everything)
    # Unfolding a run keeps the full list.
    assert (
        "changes=all"
        in re.search(r'<tr class="cv-fold">.*?</tr>', everything.content.decode()).group()
    )


def test_summary_values_and_paths_are_escaped(su_client, bot):
    bot.version_manager.create({"<b>key</b>": "<script>alert(1)</script>"})
    bot.version_manager.update({"<b>key</b>": "<img src=x onerror=alert(2)>"})
    html = su_client.get(url("diff", bot.pk)).content.decode()
    summary = re.search(r'<div class="module cv-summary".*?</div>', html, re.S).group()
    assert "<script>" not in summary
    assert "<img" not in summary
    assert "<b>" not in summary
    assert "<code>/&lt;b&gt;key&lt;~1b&gt;</code>" in summary
    assert "&lt;script&gt;" in summary


@pytest.mark.parametrize(
    ("items", "lines", "digits"), [(2, 12, 3), (300, 1204, 4), (2600, 10404, 5)]
)
def test_number_columns_are_as_wide_as_the_longest_line_number(
    su_client, bot, items, lines, digits
):
    config = {"items": [{"id": n, "name": f"item {n}"} for n in range(items)]}
    bot.version_manager.create(config)
    config["items"][-1]["name"] = "renamed"
    bot.version_manager.update(config)
    response = su_client.get(url("diff", bot.pk))
    assert response.context["display"].right_line_count == lines
    assert f'<table class="cv-diff cv-digits-{digits}"' in response.content.decode()
