"""``manage.py load_demo_configs``: the demo's people, groups, bots and their histories.

Every version is written through the bot's version manager, as the admin and the API
do, and every label move through ``releases.move_label`` (the permission check of the
admin and the API, then the manager's ``set_label``), so the demo history is exactly
what real use produces; only the manager's clock is set back, so that the versions and
releases are spread over the past weeks, as a real history is. A second run changes
nothing and says so.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config_versions import releases
from config_versions.core.version import ConfigVersion
from config_versions.models import BotConfig, BotConfigLabelMove
from demo.data import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    BOT_USERNAME,
    BOTS,
    GROUPS,
    PEOPLE,
    STAFF_PASSWORD,
    DemoBot,
    Person,
    Release,
    apply_edits,
    label_movers,
)


class Command(BaseCommand):
    help = (
        "Load three demo bot configs (support bot, RAG assistant, tool-using agent) with "
        "their version histories, the staff who wrote them, a superuser and a bot API "
        "token. DEMO ONLY: the passwords are public. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.done: list[str] = []
        with transaction.atomic():
            groups = {name: self._group(name, role.permissions) for name, role in GROUPS.items()}
            users = {person.username: self._person(person, groups) for person in PEOPLE}
            self._superuser()
            token, created = Token.objects.get_or_create(user=users[BOT_USERNAME])
            if created:
                self.done.append(f"Created the API token of {BOT_USERNAME}")
            for bot in BOTS:
                self._bot(bot, users)
        for line in self.done:
            self.stdout.write(f"  {line}")
        if not self.done:
            self.stdout.write("Nothing to do: the demo data is already loaded.")
        self._print_logins(token)

    def _group(self, name: str, codenames: tuple[str, ...]) -> Group:
        group, created = Group.objects.get_or_create(name=name)
        wanted = Permission.objects.filter(
            content_type__app_label="config_versions", codename__in=codenames
        )
        missing = set(wanted) - set(group.permissions.all())
        if missing:
            group.permissions.add(*missing)
        if created:
            self.done.append(f"Created group {name}: {', '.join(sorted(codenames))}")
        elif missing:
            self.done.append(f"Gave group {name}: {', '.join(sorted(p.codename for p in missing))}")
        return group

    def _person(self, person: Person, groups: dict[str, Group]) -> User:
        user_model = get_user_model()
        existing = user_model.objects.filter(username=person.username).first()
        if existing is not None:
            return existing
        user = user_model.objects.create_user(
            username=person.username,
            email=f"{person.username}@example.com",
            password=STAFF_PASSWORD if person.is_staff else None,
            first_name=person.first_name,
            last_name=person.last_name,
            is_staff=person.is_staff,
        )
        user.groups.add(groups[person.group])
        self.done.append(f"Created user {person.username} ({person.group})")
        return user

    def _superuser(self) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
            user_model.objects.create_superuser(
                ADMIN_USERNAME, f"{ADMIN_USERNAME}@example.com", ADMIN_PASSWORD
            )
            self.done.append(f"Created superuser {ADMIN_USERNAME}")

    def _bot(self, demo: DemoBot, users: dict[str, User]) -> None:
        bot, created = BotConfig.objects.get_or_create(
            slug=demo.slug,
            defaults={"name": demo.name, "description": demo.description, "schema": demo.schema},
        )
        if bot.current_version:
            # Already has a history: never add to or rewrite someone's config. Only the
            # demo's own history, loaded before the demo had releases, gets them now.
            if not BotConfigLabelMove.objects.filter(bot_config=bot).exists():
                history = bot.version_manager.get_history()
                if [(v.version, v.created_by, v.reason) for v in reversed(history)] == (
                    demo_history(demo)
                ):
                    self._releases(bot, demo, users, history)
            return
        config = demo.config
        author = users[demo.author]
        moments = history_moments(len(demo.steps) + 1, timezone.now())
        BotConfig.objects.filter(pk=bot.pk).update(created_at=moments[0])
        manager = bot.get_version_manager(user=author)
        manager.clock = moments[0].timestamp
        version = manager.create(config, reason="First version", created_by=author.get_username())
        for step, moment in zip(demo.steps, moments[1:], strict=True):
            author = users[step.author]
            manager = bot.get_version_manager(user=author)
            manager.clock = moment.timestamp
            if step.rollback_to is not None:
                version = manager.rollback(
                    step.rollback_to, reason=step.reason, created_by=author.get_username()
                )
            else:
                version = manager.update(
                    apply_edits(version.config, step.edits),
                    reason=step.reason,
                    created_by=author.get_username(),
                )
        verb = "Created" if created else "Filled the empty"
        self.done.append(f"{verb} bot config {demo.slug} with {version.version} versions")
        self._releases(bot, demo, users, bot.version_manager.get_history())

    def _releases(
        self, bot: BotConfig, demo: DemoBot, users: dict[str, User], history: list[ConfigVersion]
    ) -> None:
        """Move the labels as ``demo.releases`` says, each at its moment in the history;
        nothing if the site does not declare those labels."""
        wanted = {release.label for release in demo.releases}
        if not wanted or not wanted <= set(releases.declared_labels()):
            return
        timestamps = {version.version: version.timestamp for version in history}
        try:
            with transaction.atomic():  # a refused move undoes this bot's other moves
                for when, release in release_times(demo.releases, timestamps):
                    user = users[release.author]
                    manager = bot.get_version_manager(user=user)
                    manager.clock = functools.partial(float, when)
                    releases.move_label(
                        bot,
                        user,
                        release.label,
                        release.version,
                        reason=release.reason,
                        manager=manager,
                    )
        except PermissionDenied as exc:
            self.done.append(f"Left the labels of {demo.slug} unset: {exc}")
            return
        where = ", ".join(
            f"{name} at v{number}" for name, number in bot.version_manager.labels.items()
        )
        self.done.append(f"Released {demo.slug}: {where} ({len(demo.releases)} label moves)")

    def _print_logins(self, token: Token) -> None:
        by_group: dict[str, list[str]] = {}
        for person in PEOPLE:
            if person.is_staff:
                by_group.setdefault(person.group, []).append(person.username)
        self.stdout.write("\nDemo logins (DEMO ONLY, the passwords are public):")
        self.stdout.write(f"  {ADMIN_USERNAME} / {ADMIN_PASSWORD}   superuser")
        for group, names in by_group.items():
            self.stdout.write(
                f"  {', '.join(names)} / {STAFF_PASSWORD}   {group}: {GROUPS[group].description}"
            )
        movers = ", ".join(
            f"{name} ({'protected: ' if releases.is_protected(name) else ''}"
            f"{' and '.join(label_movers(releases.is_protected(name)))})"
            for name in releases.declared_labels()
        )
        if movers:
            self.stdout.write(f"Who may move the labels: {movers}; admin moves every label")
        self.stdout.write(f"API token of {BOT_USERNAME} (read only): {token.key}")


def history_moments(count: int, now: datetime) -> list[datetime]:
    """``count`` moments in the past, about two days apart, in working hours, oldest first."""
    start = (now - timedelta(days=2 * count)).replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        start + timedelta(days=2 * index, hours=(index * 5) % 8, minutes=(index * 17) % 60)
        for index in range(count)
    ]


def demo_history(demo: DemoBot) -> list[tuple[int, str, str]]:
    """(number, author, reason) of every version the demo writes for ``demo``, oldest first."""
    first = [(1, demo.author, "First version")]
    return first + [(n, s.author, s.reason) for n, s in enumerate(demo.steps, start=2)]


def release_times(
    moves: tuple[Release, ...], timestamps: dict[int, float]
) -> list[tuple[float, Release]]:
    """When each move happens (``hours`` after the version it follows), oldest first.

    Each must fall before the next version was written, and in the past.
    """
    timed = []
    for release in moves:
        when = timestamps[release.anchor] + release.hours * 3600
        later = timestamps.get(release.anchor + 1, time.time())
        if when >= later:
            raise ValueError(f"{release}: moved after the next version was written")
        timed.append((when, release))
    return sorted(timed, key=lambda item: item[0])
