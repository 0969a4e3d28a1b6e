"""Every admin view and action, for every role: the status, and nothing written when refused."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from config_versions.models import BotConfig, BotConfigVersion
from tests.admin.conftest import ROLES
from tests.admin.helpers import change_data, url

ROLE_NAMES = list(ROLES)
LOGIN = "login"  # anonymous users are sent to the login page
WRITE = "write"  # allowed, and something was written


@dataclass
class Case:
    name: str
    method: str
    path: Any  # (bot) -> str
    data: Any = None  # (bot) -> dict
    # role -> expected status; WRITE means 302 after a write, LOGIN a redirect to log in.
    expect: dict[str, Any] = field(default_factory=dict)


def matrix(*, anon=LOGIN, staff=403, viewer=403, editor=403, rollbacker=403, superuser=403):
    return dict(zip(ROLE_NAMES, [anon, staff, viewer, editor, rollbacker, superuser], strict=True))


def version_url(name: str, bot: BotConfig, *extra) -> str:
    version = bot.versions.get(version=1)
    return reverse(f"admin:config_versions_botconfigversion_{name}", args=[version.pk, *extra])


READABLE = matrix(viewer=200, editor=200, rollbacker=200, superuser=200)
NEW_CONFIG = json.dumps({"name": "SupportBot", "llm": {"model": "gpt-4o"}})
CASES = [
    Case(
        "changelist",
        "get",
        lambda b: url("changelist"),
        expect=READABLE,
    ),
    Case("add form", "get", lambda b: url("add"), expect=matrix(superuser=200)),
    Case(
        "add",
        "post",
        lambda b: url("add"),
        lambda b: {"name": "New", "slug": "new", "config": "{}", "reason": "r", "schema": ""},
        expect=matrix(superuser=WRITE),
    ),
    Case(
        "change form",
        "get",
        lambda b: url("change", b.pk),
        expect=READABLE,
    ),
    Case(
        "change",
        "post",
        lambda b: url("change", b.pk),
        lambda b: change_data(b, NEW_CONFIG),
        expect=matrix(editor=WRITE, rollbacker=WRITE, superuser=WRITE),
    ),
    Case(
        "history",
        "get",
        lambda b: url("history", b.pk),
        expect=READABLE,
    ),
    Case("diff", "get", lambda b: url("diff", b.pk), expect=READABLE),
    Case(
        "rollback",
        "post",
        lambda b: url("rollback", b.pk, 1),
        lambda b: {},
        expect=matrix(rollbacker=WRITE, superuser=WRITE),
    ),
    Case(
        # The confirmation page: it writes nothing, and needs the permission too.
        "rollback by GET",
        "get",
        lambda b: url("rollback", b.pk, 1),
        expect=matrix(rollbacker=200, superuser=200),
    ),
    Case(
        "rollback action",
        "post",
        lambda b: url("changelist"),
        lambda b: {"action": "rollback_to_previous", "_selected_action": [b.pk], "index": "0"},
        # Without the permission the action is not offered, so the post changes nothing;
        # with it, the post shows the confirmation page, which writes nothing either.
        expect=matrix(viewer=200, editor=200, rollbacker=200, superuser=200),
    ),
    Case(
        "rollback action confirmed",
        "post",
        lambda b: url("changelist"),
        lambda b: {
            "action": "rollback_to_previous",
            "_selected_action": [b.pk],
            "post": "yes",
            f"cv_expected_{b.pk}": "2",
            "reason": "confirmed",
        },
        expect=matrix(viewer=200, editor=200, rollbacker=WRITE, superuser=WRITE),
    ),
    Case("delete form", "get", lambda b: url("delete", b.pk), expect=matrix(superuser=200)),
    Case(
        "delete",
        "post",
        lambda b: url("delete", b.pk),
        lambda b: {"post": "yes"},
        expect=matrix(superuser=WRITE),
    ),
    Case(
        "version list",
        "get",
        lambda b: reverse("admin:config_versions_botconfigversion_changelist"),
        expect=READABLE,
    ),
    Case(
        "version page",
        "get",
        lambda b: version_url("change", b),
        expect=READABLE,
    ),
    Case(
        "version edit",
        "post",
        lambda b: version_url("change", b),
        lambda b: {"reason": "rewritten", "version": "1"},
        expect=matrix(),
    ),
    Case(
        "version add",
        "get",
        lambda b: reverse("admin:config_versions_botconfigversion_add"),
        expect=matrix(),
    ),
    Case(
        "version delete",
        "post",
        lambda b: version_url("delete", b),
        lambda b: {"post": "yes"},
        expect=matrix(),
    ),
]


def state() -> tuple:
    configs = list(
        BotConfig.objects.order_by("pk").values_list(
            "pk", "name", "slug", "current_version", "updated_at"
        )
    )
    versions = list(BotConfigVersion.objects.order_by("pk").values_list("pk", "reason", "version"))
    return configs, versions


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_permission_matrix(case, role, client_as, bot_with_history):
    client = client_as(role)
    bot = bot_with_history
    before = state()
    path = case.path(bot)
    if case.method == "get":
        response = client.get(path)
    else:
        response = client.post(path, case.data(bot) if case.data else {})
    expected = case.expect[role]
    after = state()
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    elif expected == WRITE:
        assert response.status_code == 302, getattr(response, "context", None) and [
            getattr(response.context.get("adminform"), "form", None)
            and response.context["adminform"].form.errors
        ]
    else:
        assert response.status_code == expected
    if expected == WRITE:
        assert after != before
    else:
        assert after == before, "a refused or read-only request wrote to the database"
