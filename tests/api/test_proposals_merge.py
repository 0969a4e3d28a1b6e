"""Apply after the config moved on: a clean three-way merge writes the merged version
(201, merged_onto), conflicting edits write nothing (409 naming every JSON Pointer); and
two applies racing over real HTTP on one config, from threads."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from config_versions.models import BotConfig, BotConfigLabelMove
from tests.api.proposals_setup import (
    BASE,
    PROPOSALS,
    SITE,
    URL,
    apply,
    approved,
    edited,
    history,
    make_team,
    recorded,
    review,
    revise,
    start,
)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.CONFIG_VERSIONS = SITE


@pytest.fixture
def team(client_for):
    return make_team(client_for)


@pytest.fixture
def started(bot):
    return start(bot)


@pytest.mark.django_db
def test_a_clean_merge_onto_newer_work_is_201_with_merged_onto(team, started):
    number = approved(team, edited(model="claude"), label="production")
    started.version_manager.update(edited(prompt="Be brief."), created_by="admin")
    response = apply(team.lead, number)
    assert response.status_code == 201, response.content
    body = response.json()
    merged = edited(model="claude", prompt="Be brief.")
    assert body["merged_onto"] == 2
    assert body["version"]["version"] == 3
    assert body["version"]["config"] == merged
    assert body["version"]["metadata"] == {
        "proposal": 1,
        "revision": 1,
        "approvers": ["rita"],
        "merged_from": 1,
        "merged_onto": 2,
    }
    assert body["label"] == {"name": "production", "version": 3}
    assert history(started)[-1] == (3, merged)
    assert team.viewer.get(URL, {"label": "production"}).json()["config"] == merged


@pytest.mark.django_db
def test_nested_edits_merge_side_by_side(team, started):
    number = approved(team, edited(limits={"tokens": 800, "temperature": 0.2}))
    started.version_manager.update(edited(limits={"tokens": 500, "temperature": 0.7}))
    body = apply(team.editor, number).json()
    assert body["version"]["config"]["limits"] == {"tokens": 800, "temperature": 0.7}


@pytest.mark.django_db
def test_conflicting_edits_are_409_naming_every_pointer_and_write_nothing(team, started):
    number = approved(
        team,
        edited(model="claude", prompt="Be curt.", limits={"tokens": 900, "temperature": 0.2}),
        label="production",
    )
    newer = edited(model="gpt-5", prompt="Be brief.", limits={"tokens": 100, "temperature": 0.2})
    started.version_manager.update(newer)
    steps = recorded()
    response = apply(team.lead, number)
    assert response.status_code == 409
    body = response.json()
    assert body["conflicts"] == ["/limits/tokens", "/model", "/prompt"]
    assert body["current_version"] == 2
    assert set(body) == {"detail", "conflicts", "current_version"}
    assert "/limits/tokens, /model, /prompt" in body["detail"]
    assert "Revise it from version 2" in body["detail"]
    assert recorded() == steps
    assert history(started) == [(1, BASE), (2, newer)]
    assert BotConfigLabelMove.objects.count() == 0
    assert team.viewer.get(f"{PROPOSALS}{number}/").json()["status"] == "approved"


@pytest.mark.django_db
def test_a_conflict_is_resolved_by_a_revision_from_the_newest_version(team, started):
    number = approved(team, edited(model="claude"))
    started.version_manager.update(edited(model="gpt-5"))
    assert apply(team.lead, number).status_code == 409
    revised = revise(team.author, number, edited(model="claude"), 2, reason="rebased")
    assert revised.status_code == 201
    review(team.reviewer, number)
    body = apply(team.lead, number).json()
    assert (body["version"]["version"], body["merged_onto"]) == (3, None)


@pytest.mark.django_db
def test_the_same_edit_on_both_sides_is_no_conflict(team, started):
    number = approved(team, edited(model="claude", prompt="New."))
    started.version_manager.update(edited(model="claude"))
    body = apply(team.lead, number).json()
    assert body["version"]["config"] == edited(model="claude", prompt="New.")
    assert body["merged_onto"] == 2


@pytest.mark.django_db
def test_apply_checks_todays_schema(team, started):
    number = approved(team, edited(model="claude"))
    BotConfig.objects.filter(pk=started.pk).update(
        schema={"type": "object", "properties": {"model": {"enum": ["gpt-4"]}}}
    )
    steps = recorded()
    response = apply(team.lead, number)
    assert response.status_code == 400
    [message] = response.json()["config"]
    assert message.startswith("Proposal 1 fails today's validation: ")
    assert "/model" in message
    assert recorded() == steps
    assert history(started) == [(1, BASE)]


@pytest.mark.django_db
def test_a_proposal_must_pass_the_schema_when_submitted(team, started):
    BotConfig.objects.filter(pk=started.pk).update(
        schema={"type": "object", "properties": {"model": {"enum": ["gpt-4"]}}}
    )
    response = team.author.post(
        PROPOSALS, {"config": edited(model="claude"), "base_version": 1}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["config"]
    assert recorded() == 0


# Two applies racing over HTTP --------------------------------------------------------

ROUNDS = 3


def _post(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _token(django_user_model, name: str, *perms: str) -> str:
    user = django_user_model.objects.create_user(name, password="x")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="config_versions", codename__in=perms)
    )
    return Token.objects.create(user=user).key


def _race(base: str, token: str, numbers: list[int]) -> list[tuple[int, dict[str, Any]]]:
    answers: list[tuple[int, dict[str, Any]]] = []
    start_together = threading.Barrier(len(numbers))

    def run(number: int) -> None:
        start_together.wait()
        answers.append(_post(f"{base}{PROPOSALS}{number}/apply/", token, {}))

    threads = [threading.Thread(target=run, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("conflicting", [False, True])
def test_two_applies_race_on_one_config(live_server, bot, django_user_model, conflicting):
    start(bot)
    manager = bot.version_manager
    applier = _token(
        django_user_model,
        "lea",
        "view_botconfig",
        "change_botconfig",
        "promote_botconfig",
        "promote_protected_botconfig",
    )
    for round_ in range(ROUNDS):
        head = bot.versions.count()
        current = manager.current_config
        if conflicting:
            configs = [{**current, "model": f"a{round_}"}, {**current, "model": f"b{round_}"}]
        else:
            configs = [{**current, "model": f"m{round_}"}, {**current, "prompt": f"p{round_}"}]
        numbers = []
        for config in configs:
            made = manager.propose(
                config, head, reason="race", created_by="ann", label="production"
            )
            manager.review_proposal(made.id, "approve", "rita")
            numbers.append(made.id)

        answers = _race(live_server.url, applier, numbers)

        statuses = sorted(status for status, _ in answers)
        assert all(status < 500 for status in statuses), answers
        written = {body["version"]["version"]: body for status, body in answers if status == 201}
        if conflicting:
            assert statuses == [201, 409], answers
            [(_, refused)] = [(s, b) for s, b in answers if s == 409]
            assert refused["conflicts"] == ["/model"]
            assert refused["current_version"] == head + 1
            assert bot.versions.count() == head + 1
        else:
            assert statuses == [201, 201], answers
            first, second = written[head + 1], written[head + 2]
            assert first["merged_onto"] is None
            assert second["merged_onto"] == head + 1
            assert second["version"]["config"] == {
                **current,
                "model": f"m{round_}",
                "prompt": f"p{round_}",
            }
            assert bot.versions.count() == head + 2
        # The label follows the last version written, as the applies were serialized.
        assert manager.get_label("production") == bot.versions.count()
        numbers_applied = [body["proposal"]["id"] for status, body in answers if status == 201]
        for number in numbers:
            status = manager.get_proposal(number).status
            assert status == ("applied" if number in numbers_applied else "approved")
    versions = list(bot.versions.order_by("version").values_list("version", flat=True))
    assert versions == list(range(1, len(versions) + 1))
