"""The history's compare picker: two versions on different pages, picked without typing.

The pages are walked as a browser without JavaScript would: follow a link, or submit
the compare form with the button pressed, carrying every checked radio.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from config_versions.models import BotConfig
from tests.admin.helpers import url

pytestmark = pytest.mark.django_db


class ComparePage(HTMLParser):
    """The compare form of a history page: its action, radios and submit buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.radios: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self.links: dict[str, str] = {}  # text -> href of links in the paginator
        self._in_form = self._in_paginator = False
        self._link: str | None = None
        self._button: dict[str, str | None] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("id") == "cv-compare-form":
            self._in_form, self.action = True, a.get("action") or ""
        elif tag == "p" and "paginator" in (a.get("class") or ""):
            self._in_paginator = True
        elif self._in_form and tag == "input" and a.get("type") == "radio":
            self.radios.append(a)
        elif self._in_form and (tag == "button" or (tag == "input" and a.get("type") == "submit")):
            self._button = {**a, "text": a.get("value") or ""}
            self.buttons.append(self._button)
        elif self._in_paginator and tag == "a":
            self._link = a.get("href")

    def handle_data(self, data: str) -> None:
        if self._button is not None and data.strip():
            self._button["text"] = data.strip()
        if self._link is not None and data.strip():
            self.links[data.strip()] = self._link

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "p":
            self._in_paginator = False
        elif tag == "button":
            self._button = None
        elif tag == "a":
            self._link = None

    def checked(self, name: str) -> list[str]:
        return [r["value"] or "" for r in self.radios if r["name"] == name and "checked" in r]

    def pick(self, name: str, value: int) -> None:
        """Click a radio: it becomes the one checked radio of its group."""
        matches = [r for r in self.radios if r["name"] == name and r["value"] == str(value)]
        assert matches, f"no {name} radio for version {value} on this page"
        for radio in self.radios:
            if radio["name"] == name:
                radio.pop("checked", None)
        matches[0]["checked"] = ""

    def submit(self, button_text: str) -> str:
        """The URL a browser opens when the button is pressed."""
        button = next(b for b in self.buttons if b["text"] == button_text)
        fields = [(r["name"] or "", r["value"] or "") for r in self.radios if "checked" in r]
        if button.get("name"):
            fields.append((button["name"] or "", button.get("value") or ""))
        return f"{button.get('formaction') or self.action}?{urlencode(fields)}"


def go_to_page(client: Client, page: ComparePage, number: int) -> ComparePage:
    """Press the paginator's control for page ``number``, whatever it is."""
    if str(number) in page.links:  # a plain link: the picks are left behind
        target = page.links[str(number)]
        if target.startswith("?"):
            target = url("history", BotConfig.objects.get().pk) + target
    else:
        target = page.submit(str(number))
    response = client.get(target)
    assert response.status_code == 200
    return ComparePage(response.content.decode())


@pytest.fixture
def long_history(bot, settings):
    settings.CONFIG_VERSIONS = {"ADMIN_HISTORY_PAGE_SIZE": 10}
    manager = bot.version_manager
    manager.create({"n": 1}, created_by="seed")
    for n in range(2, 26):
        manager.update({"n": n}, reason=f"edit {n}", created_by="bot")
    bot.refresh_from_db()
    return bot


def test_versions_on_different_pages_are_compared_by_clicking(su_client, long_history):
    first = ComparePage(su_client.get(url("history", long_history.pk)).content.decode())
    assert (first.checked("from"), first.checked("to")) == (["24"], ["25"])

    # Page 3 holds versions 5 to 1: pick version 1 there, keep version 25 from page 1.
    third = go_to_page(su_client, first, 3)
    third.pick("from", 1)
    target = third.submit("Compare selected versions")

    assert urlsplit(target).path == url("diff", long_history.pk)
    assert parse_qs(urlsplit(target).query) == {"from": ["1"], "to": ["25"]}
    response = su_client.get(target)
    assert response.status_code == 200
    assert [v.number for v in response.context["versions"]] == [1, 25]


def test_a_pick_on_another_page_is_shown_and_can_be_replaced(su_client, long_history):
    page = ComparePage(
        su_client.get(url("history", long_history.pk) + "?from=3&to=25&p=2").content.decode()
    )
    # Page 2 holds versions 15 to 6: both picks are elsewhere, and still checked.
    assert page.checked("from") == ["3"]
    assert page.checked("to") == ["25"]
    html = su_client.get(url("history", long_history.pk) + "?from=3&to=25&p=2").content.decode()
    assert "compare from v3 (page 3)" in html
    assert "compare to v25 (page 1)" in html
    # Picking "to" on this page replaces the pick from page 1.
    page.pick("to", 10)
    assert parse_qs(urlsplit(page.submit("Compare selected versions")).query) == {
        "from": ["3"],
        "to": ["10"],
    }


def test_nonsense_picks_fall_back_to_the_defaults(su_client, long_history):
    for query in ("?from=0&to=99", "?from=abc&to=", "?from=-1&to=1.5", "?from=\u0661&to=\u0662"):
        html = su_client.get(url("history", long_history.pk) + query).content.decode()
        page = ComparePage(html)
        assert (page.checked("from"), page.checked("to")) == (["24"], ["25"]), query


def test_page_buttons_keep_the_page_working_without_picks(su_client, long_history):
    page = ComparePage(su_client.get(url("history", long_history.pk) + "?p=3").content.decode())
    # The default picks (24 and 25) live on page 1 and stay picked.
    assert page.checked("from") == ["24"]
    assert page.checked("to") == ["25"]
    assert {b["text"] for b in page.buttons} >= {"1", "2", "Compare selected versions"}
