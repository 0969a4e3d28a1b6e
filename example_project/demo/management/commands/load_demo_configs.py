"""``manage.py load_demo_configs``: the demo's people, groups, bots and their histories.

Every version is written through the bot's version manager, as the admin and the API
do, every label move through ``releases.move_label`` and every step of a proposal
(submit, review, withdraw, apply) through ``config_versions.review``: the permission
checks of the admin and the API, then the manager's rules. So the demo history is
exactly what real use produces; only the manager's clock is set back, so that the
versions, releases and reviews are spread over the past weeks, as a real history is.
A second run changes nothing and says so.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config_versions import releases, review
from config_versions.conf import settings
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.proposals import STATUSES
from config_versions.models import BotConfig
from demo.data import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    BOT_USERNAME,
    BOTS,
    GROUPS,
    PEOPLE,
    STAFF_PASSWORD,
    Applied,
    DemoBot,
    Person,
    Release,
    Review,
    Step,
    Withdrawn,
    apply_edits,
    label_movers,
    reviewers,
)
from demo.timeline import Moment, Submitted, history_moments, timeline


class Command(BaseCommand):
    help = (
        "Load three demo bot configs (support bot, RAG assistant, tool-using agent) with "
        "their version histories, the staff who wrote them, a superuser and a bot API "
        "token. DEMO ONLY: the passwords are public. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.done: list[str] = []
        self.notes: list[str] = []
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
        for line in self.notes:
            self.stdout.write(f"  Note: {line}")
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
        try:
            with transaction.atomic():  # a refused step undoes this bot's whole history
                bot, created = BotConfig.objects.get_or_create(
                    slug=demo.slug,
                    defaults={
                        "name": demo.name,
                        "description": demo.description,
                        "schema": demo.schema,
                    },
                )
                if bot.current_version:
                    # Already has a history: never add to or rewrite someone's config.
                    self._note_older_demo(bot, demo)
                    return
                self._history(bot, demo, users)
        except PermissionDenied as exc:
            self.done.append(f"Left out {demo.slug}: {exc}")
            return
        verb = "Created" if created else "Filled the empty"
        self.done.append(f"{verb} bot config {demo.slug} with {bot.current_version} versions")
        labels = bot.version_manager.labels
        if labels:
            moves = len(bot.version_manager.label_history())
            where = ", ".join(f"{name} at v{number}" for name, number in labels.items())
            self.done.append(f"Released {demo.slug}: {where} ({moves} label moves)")
        statuses = Counter(p.status for p in bot.version_manager.proposals())
        if statuses:
            counts = ", ".join(f"{statuses[s]} {s}" for s in STATUSES if statuses[s])
            self.done.append(f"Proposals of {demo.slug}: {counts}")

    def _history(self, bot: BotConfig, demo: DemoBot, users: dict[str, User]) -> None:
        """Write ``demo``'s versions, label moves and proposals, each at its moment in
        the past, in the order they happened."""
        moments = history_moments(len(demo.steps) + 1, timezone.now())
        BotConfig.objects.filter(pk=bot.pk).update(created_at=moments[0])
        stamps = {n: moment.timestamp() for n, moment in enumerate(moments, start=1)}
        numbers: dict[int, int] = {}  # the demo's proposal (its key) -> its number
        for moment in timeline(demo, stamps, set(releases.declared_labels())):
            user = users[moment.actor]
            manager = bot.get_version_manager(user=user)
            manager.clock = functools.partial(float, moment.when)
            what = moment.what
            if isinstance(what, Release):
                releases.move_label(
                    bot, user, what.label, what.version, reason=what.reason, manager=manager
                )
            elif isinstance(what, Submitted):
                numbers[moment.key] = self._submit(bot, user, manager, what)
            elif isinstance(what, Review):
                review.review(
                    bot,
                    user,
                    numbers[moment.key],
                    what.decision,
                    comment=what.comment,
                    manager=manager,
                )
            elif isinstance(what, Withdrawn):
                review.withdraw(bot, user, numbers[moment.key], reason=what.reason, manager=manager)
            elif isinstance(what, Applied):
                review.apply(bot, user, numbers[moment.key], manager=manager)
            else:
                self._write(bot, demo, user, manager, moment, numbers)

    def _submit(
        self, bot: BotConfig, user: User, manager: ConfigVersionManager, submitted: Submitted
    ) -> int:
        source = manager.get_version(submitted.config_of or submitted.base)
        assert source is not None  # written before: timeline() orders the moments
        proposal = review.submit(
            bot,
            user,
            apply_edits(source.config, submitted.edits),
            submitted.base,
            reason=submitted.reason,
            label=submitted.label,
            manager=manager,
        )
        return proposal.id

    def _write(
        self,
        bot: BotConfig,
        demo: DemoBot,
        user: User,
        manager: ConfigVersionManager,
        moment: Moment,
        numbers: dict[int, int],
    ) -> None:
        """Version ``moment.version``: the first, a step's edits or rollback, or the
        step's proposal applied (which writes it)."""
        author = user.get_username()
        step = moment.what
        if not isinstance(step, Step):
            manager.create(demo.config, reason="First version", created_by=author)
            return
        if step.through is not None:
            written = review.apply(bot, user, numbers[moment.key], manager=manager).version
        elif step.rollback_to is not None:
            written = manager.rollback(step.rollback_to, reason=step.reason, created_by=author)
        else:
            previous = manager.get_version(manager.current_version)
            assert previous is not None
            written = manager.update(
                apply_edits(previous.config, step.edits), reason=step.reason, created_by=author
            )
        if written.version != moment.version or written.unchanged:
            raise RuntimeError(f"{bot.slug}: {step.reason!r} did not write v{moment.version}")

    def _note_older_demo(self, bot: BotConfig, demo: DemoBot) -> None:
        """Say so when ``bot`` looks like an earlier demo's, loaded before proposals."""
        first = bot.version_manager.get_version(1)
        if (
            first is not None
            and (first.created_by, first.reason) == (demo.author, "First version")
            and not bot.version_manager.proposals()
        ):
            self.notes.append(
                f"{demo.slug} was loaded by an earlier demo, without proposals; remove the "
                "demo's database and load it again to see them."
            )

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
        movers = ", ".join(who_moves(name) for name in releases.declared_labels())
        if movers:
            self.stdout.write(f"Who may move the labels: {movers}; admin holds every permission")
        self.stdout.write(f"API token of {BOT_USERNAME} (read only): {token.key}")


def who_moves(label: str) -> str:
    """``production (protected, reviewed: Leads and Reviewers approve, Leads apply)``."""
    protected = releases.is_protected(label)
    movers = " and ".join(label_movers(protected))
    if settings.REVIEW.requires_review(label):
        approve = " and ".join(reviewers())
        kind = "protected, reviewed" if protected else "reviewed"
        return f"{label} ({kind}: {approve} approve, {movers} apply)"
    return f"{label} ({'protected: ' if protected else ''}{movers})"
