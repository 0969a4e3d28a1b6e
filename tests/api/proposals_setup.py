"""What the proposal API tests share: the site's settings, a team of users with the
permissions review asks for, and short calls of the endpoints.

The config (``support-bot``) starts at version 1, ``BASE``; ``production`` is protected
and moves only by review, ``staging`` moves freely.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from rest_framework.test import APIClient

from config_versions.models import BotConfig, BotConfigProposalEvent

LABELS = {"staging": {}, "production": {"protected": True}}
SITE: dict[str, Any] = {"LABELS": LABELS, "REVIEW": {"labels": ["production"]}}
URL = "/api/configs/support-bot/"
PROPOSALS = f"{URL}proposals/"
BASE: dict[str, Any] = {
    "model": "gpt-4",
    "prompt": "Be kind.",
    "tools": ["search"],
    "limits": {"tokens": 500, "temperature": 0.2},
}


def edited(**changes: Any) -> dict[str, Any]:
    """``BASE`` with ``changes`` at the top level (a deep copy)."""
    return {**copy.deepcopy(BASE), **changes}


def start(bot: BotConfig) -> BotConfig:
    """Give ``bot`` its version 1, ``BASE``."""
    bot.version_manager.create(BASE, created_by="admin")
    bot.refresh_from_db()
    return bot


@dataclass
class Team:
    """Users by role, each an API client authenticated by token; the name is the
    username the API records."""

    author: APIClient  # ann: propose_botconfig (and view)
    other_author: APIClient  # abe: propose_botconfig (and view)
    reviewer: APIClient  # rita: review_botconfig (and view)
    second_reviewer: APIClient  # rob: review_botconfig (and view)
    editor: APIClient  # ed: change and promote_botconfig (and view)
    lead: APIClient  # lea: change, promote and promote_protected (and view)
    viewer: APIClient  # vic: view only


VIEW = "view_botconfig"


def make_team(client_for: Any) -> Team:
    return Team(
        author=client_for(VIEW, "propose_botconfig", username="ann"),
        other_author=client_for(VIEW, "propose_botconfig", username="abe"),
        reviewer=client_for(VIEW, "review_botconfig", username="rita"),
        second_reviewer=client_for(VIEW, "review_botconfig", username="rob"),
        editor=client_for(VIEW, "change_botconfig", "promote_botconfig", username="ed"),
        lead=client_for(
            VIEW,
            "change_botconfig",
            "promote_botconfig",
            "promote_protected_botconfig",
            username="lea",
        ),
        viewer=client_for(VIEW, username="vic"),
    )


def propose(api: APIClient, config: Any, base_version: Any = 1, **fields: Any) -> Any:
    return api.post(
        PROPOSALS, {"config": config, "base_version": base_version, **fields}, format="json"
    )


def review(api: APIClient, number: int, decision: str = "approve", **fields: Any) -> Any:
    return api.post(
        f"{PROPOSALS}{number}/reviews/", {"decision": decision, **fields}, format="json"
    )


def apply(api: APIClient, number: int, **fields: Any) -> Any:
    return api.post(f"{PROPOSALS}{number}/apply/", fields, format="json")


def withdraw(api: APIClient, number: int, **fields: Any) -> Any:
    return api.post(f"{PROPOSALS}{number}/withdraw/", fields, format="json")


def revise(api: APIClient, number: int, config: Any, base_version: Any = 1, **fields: Any) -> Any:
    return api.post(
        f"{PROPOSALS}{number}/revisions/",
        {"config": config, "base_version": base_version, **fields},
        format="json",
    )


def approved(team: Team, config: dict[str, Any], base_version: int = 1, **fields: Any) -> int:
    """Propose ``config`` as ann and have rita approve it; its number."""
    made = propose(team.author, config, base_version, **fields)
    assert made.status_code == 201, made.content
    number = int(made.json()["id"])
    assert review(team.reviewer, number).status_code == 201
    return number


def recorded() -> int:
    """How many proposal steps the database holds."""
    return BotConfigProposalEvent.objects.count()


def history(bot: BotConfig) -> list[tuple[int, dict[str, Any]]]:
    return [(v.version, v.config) for v in bot.versions.order_by("version")]


# Every proposal operation, each with a request that succeeds on a working database once
# ``operations_ready`` has run: proposal 1 by ann approved by rita (root, a superuser, may
# review, apply and withdraw it), proposal 2 by root (root may revise it).
OPERATIONS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("get", PROPOSALS, None),
    ("post", PROPOSALS, {"config": edited(model="claude"), "base_version": 1}),
    ("get", f"{PROPOSALS}1/", None),
    ("post", f"{PROPOSALS}1/reviews/", {"decision": "approve", "comment": "ok"}),
    ("post", f"{PROPOSALS}1/apply/", {"reason": "go"}),
    ("post", f"{PROPOSALS}1/withdraw/", {"reason": "no"}),
    ("post", f"{PROPOSALS}2/revisions/", {"config": edited(model="x"), "base_version": 1}),
]


def operations_ready(bot: BotConfig) -> BotConfig:
    start(bot)
    manager = bot.version_manager
    manager.propose(edited(model="claude"), 1, reason="Try Claude", created_by="ann")
    manager.review_proposal(1, "approve", "rita")
    manager.propose(edited(prompt="Be brief."), 1, created_by="root")
    return bot
