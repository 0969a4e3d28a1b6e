"""Settings: one ``CONFIG_VERSIONS`` dict, every key documented here with its default.

Read them through ``conf.settings``, whose typed properties read the live Django setting
each time, so ``override_settings`` works in tests::

    from config_versions.conf import settings

    settings.MAX_DEPTH  # -> int

The types are promises the system checks in ``checks.py`` keep: a wrong value is
reported at start-up (``config_versions.E0xx``), not cast here.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from django.conf import settings as django_settings

from config_versions.core.proposals import ReviewPolicy

DEFAULTS: dict[str, Any] = {
    # Largest config accepted, measured as compact UTF-8 JSON. Larger ones are refused
    # with a clear error (a 400 in the API).
    "MAX_CONFIG_BYTES": 2 * 1024 * 1024,
    # Deepest nesting of objects/arrays accepted in a config.
    "MAX_DEPTH": 32,
    # Longest reason, in characters, a version may record.
    "MAX_REASON_LENGTH": 10_000,
    # Longest description, in characters, a config may have.
    "MAX_DESCRIPTION_LENGTH": 10_000,
    # Dotted paths of callables ``validator(config, bot_config)`` run on every new version
    # (create, update, rollback); they raise django.core.exceptions.ValidationError.
    "VALIDATORS": [],
    # DRF policy of the REST API. None means "DRF's own DEFAULT_* setting".
    "API_AUTHENTICATION_CLASSES": None,
    "API_PERMISSION_CLASSES": ["config_versions.api.permissions.BotConfigPermission"],
    # Page size of the API's list and history endpoints.
    "API_PAGE_SIZE": 50,
    # When True, PUT and rollback must carry If-Match or expected_version (428 without).
    "REQUIRE_PRECONDITION": False,
    # Versions per page in the admin history view.
    "ADMIN_HISTORY_PAGE_SIZE": 50,
    # Unchanged lines shown around each change in the admin diff before folding.
    "ADMIN_DIFF_CONTEXT": 3,
    # Key of the HMAC signature of every version's chain hash (at least 32 characters),
    # kept out of the database: someone who can only write to the database cannot
    # re-chain an edited history without verification noticing. None: not signed.
    "SIGNING_KEY": None,
    # The labels configs may carry besides the implicit "latest" (always the newest
    # version): {"staging": {}, "production": {"protected": True}}. Moving a label needs
    # the promote_botconfig permission; a protected one promote_protected_botconfig too.
    "LABELS": {},
    # What GET configs/{slug}/ serves without ?label=: "latest" or a declared label.
    "DEFAULT_LABEL": "latest",
    # Proposals and their review: approvals needed to apply one (of its current
    # revision), whether authors may approve their own, the declared labels that move
    # only by applying an approved proposal, and whether every plain write needs the
    # bypass_review_botconfig permission. Missing keys take these defaults.
    "REVIEW": {
        "required_approvals": 1,
        "allow_self_approval": False,
        "labels": [],
        "all_writes": False,
    },
}


def get(name: str) -> Any:
    if name not in DEFAULTS:
        raise KeyError(f"Unknown config_versions setting {name!r}")
    return user_settings().get(name, DEFAULTS[name])


def user_settings() -> dict[str, Any]:
    # Anything but a dict (a list, a string) reads as "no overrides", so the app keeps
    # working on its defaults while checks.py reports the mistake.
    value = getattr(django_settings, "CONFIG_VERSIONS", None)
    return value if isinstance(value, dict) else {}


def _paths(name: str) -> list[str]:
    # A copy: the checks accept tuples too, and a caller appending to the list it got
    # must not change DEFAULTS for everyone else.
    return list(get(name))


_review_cache: dict[str, tuple[dict[str, Any], ReviewPolicy]] = {}


class Settings:
    """Typed, live view of ``CONFIG_VERSIONS``: one property per key of ``DEFAULTS``."""

    @property
    def MAX_CONFIG_BYTES(self) -> int:
        return cast(int, get("MAX_CONFIG_BYTES"))

    @property
    def MAX_DEPTH(self) -> int:
        return cast(int, get("MAX_DEPTH"))

    @property
    def MAX_REASON_LENGTH(self) -> int:
        return cast(int, get("MAX_REASON_LENGTH"))

    @property
    def MAX_DESCRIPTION_LENGTH(self) -> int:
        return cast(int, get("MAX_DESCRIPTION_LENGTH"))

    @property
    def VALIDATORS(self) -> list[str]:
        return _paths("VALIDATORS")

    @property
    def API_AUTHENTICATION_CLASSES(self) -> list[str] | None:
        if get("API_AUTHENTICATION_CLASSES") is None:
            return None
        return _paths("API_AUTHENTICATION_CLASSES")

    @property
    def API_PERMISSION_CLASSES(self) -> list[str]:
        return _paths("API_PERMISSION_CLASSES")

    @property
    def API_PAGE_SIZE(self) -> int:
        return cast(int, get("API_PAGE_SIZE"))

    @property
    def REQUIRE_PRECONDITION(self) -> bool:
        return cast(bool, get("REQUIRE_PRECONDITION"))

    @property
    def ADMIN_HISTORY_PAGE_SIZE(self) -> int:
        return cast(int, get("ADMIN_HISTORY_PAGE_SIZE"))

    @property
    def ADMIN_DIFF_CONTEXT(self) -> int:
        return cast(int, get("ADMIN_DIFF_CONTEXT"))

    @property
    def SIGNING_KEY(self) -> str | None:
        return cast("str | None", get("SIGNING_KEY"))

    @property
    def LABELS(self) -> dict[str, dict[str, Any]]:
        value = get("LABELS")
        # A copy, as for the path lists; checks.py reports a value that is not a dict.
        return {str(k): dict(v) for k, v in value.items()} if isinstance(value, dict) else {}

    @property
    def DEFAULT_LABEL(self) -> str:
        return cast(str, get("DEFAULT_LABEL"))

    @property
    def REVIEW(self) -> ReviewPolicy:
        value = get("REVIEW")
        value = value if isinstance(value, dict) else {}
        # Every manager reads it: built once per value of the setting (compared, not
        # trusted by identity, so a dict changed in place is seen too).
        cached = _review_cache.get("policy")
        if cached is not None and cached[0] == value:
            return cached[1]
        # A mistaken value keeps its default while checks.py reports it (E012).
        policy = ReviewPolicy.from_mapping(value)
        _review_cache["policy"] = (copy.deepcopy(value), policy)
        return policy

    def is_protected_label(self, name: str) -> bool:
        return bool(self.LABELS.get(name, {}).get("protected", False))


settings = Settings()
