"""Releases: the site's labels, who may move them, and where each one points.

The admin and the API both move labels through :func:`move_label` and describe them
with :func:`label_states`, so they give the same answer to the same request. The rules
of a move itself (which version, conflicts, no-op moves, the recorded event) live in
the version manager (``ConfigVersionManager.set_label``); this module adds the site's
side: which labels are declared, which are protected, and the permissions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import PermissionDenied

from config_versions.conf import settings
from config_versions.core.labels import LabelMove, check_label

if TYPE_CHECKING:
    from config_versions.core.manager import ConfigVersionManager
    from config_versions.models import BotConfig


class User(Protocol):
    """What a move needs of a user: Django's users and AnonymousUser have it."""

    @property
    def is_authenticated(self) -> bool: ...

    def has_perm(self, perm: str, obj: Any = None) -> bool: ...

    def get_username(self) -> str: ...


PROMOTE = "config_versions.promote_botconfig"
PROMOTE_PROTECTED = "config_versions.promote_protected_botconfig"


def declared_labels() -> list[str]:
    """The site's labels, in the order ``CONFIG_VERSIONS["LABELS"]`` declares them."""
    return list(settings.LABELS)


def is_protected(name: str) -> bool:
    return settings.is_protected_label(name)


def check_declared(name: object, *, movable: bool = False) -> str:
    """``name`` if it is ``latest`` (unless ``movable``) or a declared label; else
    :class:`~config_versions.core.errors.UnknownLabelError` naming the site's labels."""
    return check_label(name, settings.LABELS, movable=movable)


def move_refusal(user: User, name: str) -> str | None:
    """Why ``user`` may not move label ``name``, or None if they may.

    Moving needs ``promote_botconfig`` and seeing configs (view or change: a move is
    shown with the configs it moves between); a protected label needs
    ``promote_protected_botconfig`` as well.
    """
    if not user.is_authenticated or not user.has_perm(PROMOTE):
        return "You may not move labels (permission promote_botconfig)."
    if not (
        user.has_perm("config_versions.view_botconfig")
        or user.has_perm("config_versions.change_botconfig")
    ):
        return "Moving a label needs permission to view bot configs as well."
    if is_protected(name) and not user.has_perm(PROMOTE_PROTECTED):
        return (
            f"{name!r} is a protected label: moving it needs the permission "
            "promote_protected_botconfig."
        )
    return None


def movable_labels(user: User) -> list[str]:
    """The declared labels ``user`` may move directly, in declaration order (not those
    that move only by applying a proposal, ``REVIEW["labels"]``)."""
    review = settings.REVIEW
    return [
        name
        for name in declared_labels()
        if not review.requires_review(name) and move_refusal(user, name) is None
    ]


def move_label(
    bot: BotConfig,
    user: User,
    name: str,
    version: int,
    *,
    reason: str = "",
    expected_version: int | None = None,
    manager: ConfigVersionManager | None = None,
) -> LabelMove:
    """Move label ``name`` of ``bot`` to ``version`` on behalf of ``user``.

    Raises ``PermissionDenied`` (nothing written) when the user may not, and what
    ``ConfigVersionManager.set_label`` raises otherwise. Returns the recorded move, or
    the label's last move with ``unchanged`` set when it already points there.
    """
    name = check_declared(name, movable=True)
    refusal = move_refusal(user, name)
    if refusal is not None:
        raise PermissionDenied(refusal)
    if manager is None:
        manager = bot.get_version_manager(user=user)  # type: ignore[arg-type]
    author = user.get_username() if user.is_authenticated else None
    return manager.set_label(
        name, version, reason=reason, created_by=author, expected_version=expected_version
    )


@dataclass(frozen=True)
class LabelState:
    """Where a declared label points, and its last move (None while it is not set)."""

    name: str
    protected: bool
    move: LabelMove | None
    current_version: int  # the config's newest version, for "N versions behind latest"

    @property
    def version(self) -> int | None:
        return self.move.to_version if self.move is not None else None

    @property
    def behind(self) -> int | None:
        """How many versions behind ``latest`` the label is; None while not set."""
        return None if self.version is None else self.current_version - self.version

    @property
    def moved_at(self) -> dt.datetime | None:
        if self.move is None:
            return None
        return self.move.moved_at


def label_states(bot: BotConfig, manager: ConfigVersionManager | None = None) -> list[LabelState]:
    """Every declared label of ``bot``, set or not, in declaration order (one query)."""
    if manager is None:
        manager = bot.version_manager
    heads = manager.label_heads() if declared_labels() else {}
    return [
        LabelState(name, is_protected(name), heads.get(name), bot.current_version)
        for name in declared_labels()
    ]


def labels_by_version(states: list[LabelState]) -> dict[int, list[str]]:
    """Version number -> the labels pointing at it (declaration order)."""
    found: dict[int, list[str]] = {}
    for state in states:
        if state.version is not None:
            found.setdefault(state.version, []).append(state.name)
    return found
