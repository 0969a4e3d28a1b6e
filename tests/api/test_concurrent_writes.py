"""Compare-and-set over real HTTP: writers racing with the same precondition, one wins."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

WRITERS = 8


def _put(url: str, token: str, body: dict, **headers: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("precondition", ["If-Match", "expected_version", None])
def test_racing_writers(live_server, bot, django_user_model, precondition):
    bot.version_manager.create({"n": 0})
    user = django_user_model.objects.create_superuser("racer", password="x")
    token = Token.objects.create(user=user).key
    url = f"{live_server.url}/api/configs/support-bot/"
    with urllib.request.urlopen(
        urllib.request.Request(url, headers={"Authorization": f"Token {token}"}), timeout=30
    ) as response:
        etag = response.headers["ETag"]
    statuses: list[int] = []
    start = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        body: dict = {"config": {"n": n}, "reason": f"writer {n}"}
        headers = {}
        if precondition == "If-Match":
            headers["If-Match"] = etag
        elif precondition == "expected_version":
            body["expected_version"] = 1
        start.wait()
        statuses.append(_put(url, token, body, **headers))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, WRITERS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    bot.refresh_from_db()
    if precondition is None:
        # Without a precondition nobody loses: every write becomes a version.
        assert statuses == [200] * WRITERS
        assert bot.current_version == 1 + WRITERS
    else:
        refused = 412 if precondition == "If-Match" else 409
        assert sorted(statuses) == [200] + [refused] * (WRITERS - 1)
        assert bot.current_version == 2
    assert list(bot.versions.order_by("version").values_list("version", flat=True)) == list(
        range(1, bot.current_version + 1)
    )
