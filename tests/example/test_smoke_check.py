"""The packaging test's HTTP check, run here against the repository's code."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from smoke_check import main

from demo.management.commands.load_demo_configs import Command

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("example_project.urls"),
    pytest.mark.usefixtures("example_settings"),
]


@pytest.fixture
def token():
    call_command(Command(), stdout=StringIO())
    return Token.objects.get(user__username="bot-runtime").key


def test_passes_on_a_working_site(live_server, token, capsys):
    code = main(["--url", live_server.url, "--login", "admin:admin", "--token", token])

    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"^ok   GET /admin/config_versions/botconfig/\d+/diff/", out, re.MULTILINE)
    assert "ok   GET /api/configs/support-bot/labels/: {'staging': 9, 'production': 7}" in out
    assert "ok   GET /api/configs/support-bot/?label=production: version 7, then 304" in out
    assert "ok   GET /api/configs/support-bot/proposals/: 8 proposal(s)" in out
    assert "ok   GET /api/configs/support-bot/proposals/8/: open, merge preview onto v9" in out
    assert re.search(r"^ok   GET /admin/config_versions/botconfig/\d+/proposals/\d+/ ", out, re.M)
    assert out.splitlines()[-1].startswith("all checks passed")


@pytest.mark.parametrize(
    ("login", "slug", "failure"),
    [
        ("admin:wrong", "support-bot", "POST {url}/admin/login/?next=/admin/: HTTP 200"),
        ("admin:admin", "no-such-bot", "GET {url}/api/configs/no-such-bot/: HTTP 404"),
    ],
)
def test_fails_loudly(live_server, token, capsys, login, slug, failure):
    code = main(["--url", live_server.url, "--login", login, "--token", token, "--slug", slug])

    assert code == 1
    assert capsys.readouterr().err.startswith("FAIL " + failure.format(url=live_server.url))
