"""Looking never writes: no INSERT, UPDATE or DELETE and no model or version signals."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config_versions.signals import config_rolled_back, version_created
from tests.admin.helpers import url

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
SIGNALS = [pre_save, post_save, pre_delete, post_delete, version_created, config_rolled_back]


def pages(bot) -> list[str]:
    first = bot.versions.get(version=1)
    return [
        url("changelist"),
        url("changelist") + "?q=support",
        url("add"),
        url("change", bot.pk),
        url("history", bot.pk),
        url("history", bot.pk) + "?p=2",
        url("diff", bot.pk),
        url("diff", bot.pk) + "?from=1&to=3&expand=all",
        url("diff", bot.pk) + "?from=x",
        url("rollback", bot.pk, 1),  # the confirmation page: rolling back is its POST
        url("rollback", bot.pk, 2) + "?expand=all",
        url("delete", bot.pk),
        reverse("admin:config_versions_botconfigversion_changelist"),
        reverse("admin:config_versions_botconfigversion_change", args=[first.pk]),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["viewer", "superuser"])
def test_viewing_any_page_never_writes(client_as, bot_with_history, role):
    bot_with_history.version_manager.rollback(1)
    client = client_as(role)
    sent = []

    def record(sender, **kwargs):
        sent.append(sender)

    for signal in SIGNALS:
        signal.connect(record, dispatch_uid="no-writes")
    try:
        for page in pages(bot_with_history):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(page)
            assert response.status_code in (200, 400, 403), page
            writes = [q["sql"] for q in queries if WRITE.match(q["sql"])]
            assert writes == [], page
    finally:
        for signal in SIGNALS:
            signal.disconnect(dispatch_uid="no-writes")
    assert sent == []
