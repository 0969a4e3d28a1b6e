"""A config reads back exactly as written, on every database (issue 12, item 1).

"Exactly" means equal *with types*: ``1e16`` stays a float (jsonb made it the int
``10000000000000000``), ``-0.0`` keeps its sign, an int beyond 64 bits stays that int,
a key keeps its place and its code points (NFC and NFD spellings are two keys). The
config, and the metadata beside it, are read back four ways: a fresh manager, the ORM,
the API, and the history check (which recomputes every hash from what it reads).

The property test records how many examples it ran in
``build/test-reports/roundtrip-<database>.txt`` (and prints it with ``-s``).
"""

from __future__ import annotations

import itertools
import math
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from config_versions import InvalidConfigError
from config_versions.integrity import verify_history
from config_versions.models import BotConfig, BotConfigVersion

pytestmark = pytest.mark.django_db

REPORTS = Path(__file__).resolve().parent.parent / "build" / "test-reports"
_ENGINE = django_settings.DATABASES["default"]["ENGINE"]
# SQLite is local and fast; a server costs a round trip per query.
EXAMPLES = int(os.environ.get("CV_ROUNDTRIP_EXAMPLES", 200 if _ENGINE.endswith("sqlite3") else 100))
_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The values that broke, or could break, a round trip somewhere.
HOSTILE_FLOATS = [
    1e16,
    -0.0,
    0.0,
    12345678901234567890.5,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    9007199254740993.0,  # 2**53 + 1, which a double cannot hold: reads 9007199254740992.0
    1e22,
    1e-7,
    0.1,
    1.0,
]
HOSTILE_INTS = [2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63), -(2**63) - 1, 2**80, -(2**80)]
NFC, NFD = unicodedata.normalize("NFC", "é"), unicodedata.normalize("NFD", "é")
HOSTILE_KEYS = ["ключ", "🔑", NFC, NFD, "", " ", "a.b", "/", "~0", "$", "\\", '"', "1", "🏳️‍🌈"]

# Any text a database can keep: no NUL, no lone surrogate (both refused, see below).
_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_text = st.text(_CHARS, max_size=16)
_keys = _text | st.sampled_from(HOSTILE_KEYS)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from(HOSTILE_INTS)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(HOSTILE_FLOATS)
    | _text
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_keys, children, max_size=5),
    max_leaves=30,
)
configs = st.dictionaries(_keys, _json, max_size=6)


# Comparing with types ---------------------------------------------------------------


def assert_exact(got: Any, want: Any, path: str = "") -> None:
    """``got == want``, and every value of the same type, every float the same double
    (sign of zero included), every object's keys in the same order.

    Values are compared first, order second: a mangled number is reported as such even
    where the keys came back reordered too.
    """
    _compare(got, want, path, ordered=False)
    _compare(got, want, path, ordered=True)


def _compare(got: Any, want: Any, path: str, *, ordered: bool) -> None:
    where = path or "/"
    assert type(got) is type(want), (
        f"{where}: {type(got).__name__} {got!r}, wrote {type(want).__name__} {want!r}"
    )
    if isinstance(want, dict):
        if ordered:
            assert list(got) == list(want), f"{where}: keys {list(got)!r}, wrote {list(want)!r}"
        else:
            assert set(got) == set(want), f"{where}: keys {sorted(got)!r}, wrote {sorted(want)!r}"
        for key, value in want.items():
            _compare(got[key], value, f"{path}/{key}", ordered=ordered)
    elif isinstance(want, list):
        assert len(got) == len(want), f"{where}: {len(got)} items, wrote {len(want)}"
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            _compare(a, b, f"{path}/{index}", ordered=ordered)
    elif isinstance(want, float):
        same = repr(got) == repr(want) and math.copysign(1.0, got) == math.copysign(1.0, want)
        assert same, f"{where}: {got!r}, wrote {want!r}"
    else:
        assert got == want, f"{where}: {got!r}, wrote {want!r}"


@pytest.mark.parametrize(
    ("got", "want"),
    [
        (10000000000000000, 1e16),
        (0.0, -0.0),
        ({"b": 1, "a": 2}, {"a": 2, "b": 1}),
        ([1], [True]),
        ({NFC: 1}, {NFD: 1}),
        (1.2345678901234567e19, 12345678901234567890),
    ],
)
def test_the_comparison_tells_apart_what_equality_does_not(got, want):
    with pytest.raises(AssertionError):
        assert_exact(got, want)


def no_break(found: Any) -> bool:
    """verify_history answers None, or (once it lists every break) an empty list."""
    return found is None or (isinstance(found, list) and not found)


# Reading back every way ---------------------------------------------------------------


_slugs = (f"rt-{n}" for n in itertools.count(1))


@pytest.fixture
def api(db, django_user_model) -> APIClient:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_superuser("rt-root", password="x"))
    return client


def read_back_everywhere(
    bot: BotConfig, expected: list[dict[str, Any]], metadata: list[dict[str, Any]], api: APIClient
) -> None:
    """Version n (1-based) holds ``expected[n - 1]`` and ``metadata[n - 1]``."""
    fresh = BotConfig.objects.get(pk=bot.pk)
    assert fresh.current_version == len(expected)
    manager = fresh.version_manager  # a new store: nothing cached from the writes
    assert_exact(manager.current_config, expected[-1], "current_config")
    for number, (config, meta) in enumerate(zip(expected, metadata, strict=True), start=1):
        version = manager.get_version(number)
        assert_exact(version.config, config, f"manager v{number}")
        assert_exact(version.metadata, meta, f"manager v{number} metadata")
        row = BotConfigVersion.objects.get(bot_config=fresh, version=number)
        assert_exact(row.config, config, f"ORM v{number}")
        assert_exact(row.metadata or {}, meta, f"ORM v{number} metadata")
        answer = api.get(f"/api/configs/{fresh.slug}/versions/{number}/")
        assert answer.status_code == 200, answer.content
        assert_exact(answer.json()["config"], config, f"API v{number}")
    history = manager.get_history()
    assert [v.version for v in history] == list(range(len(expected), 0, -1))
    for version in history:
        assert_exact(version.config, expected[version.version - 1], f"history v{version.version}")
    current = api.get(f"/api/configs/{fresh.slug}/")
    assert current.status_code == 200, current.content
    assert_exact(current.json()["config"], expected[-1], "API current")
    found = verify_history(fresh)
    assert no_break(found), found


def write_three_ways(
    bot: BotConfig, first: dict[str, Any], second: dict[str, Any], meta: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """create(first), update(second), rollback(1): the configs and metadata expected of
    versions 1..N (a write equal to the current config writes nothing)."""
    manager = bot.version_manager
    created = manager.create(first, metadata=meta)
    assert_exact(created.config, first, "create() answer")
    expected, metas = [first], [meta]
    updated = manager.update(second, metadata=meta)
    assert_exact(updated.config, second if not updated.unchanged else first, "update() answer")
    if not updated.unchanged:
        expected.append(second)
        metas.append(meta)
    # A rollback copies the stored config inside the database: another path to check.
    back = manager.rollback(1)
    if not back.unchanged:
        expected.append(first)
        metas.append({"rollback_from": len(expected) - 1, "rollback_to": 1})
    assert_exact(back.config, first, "rollback() answer")
    return expected, metas


# The property -----------------------------------------------------------------------


def _features(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key != unicodedata.normalize("NFC", key) or any(ord(c) > 0xFFFF for c in key):
                found.add("non-NFC or astral key")
            _features(child, found)
    elif isinstance(value, list):
        for child in value:
            _features(child, found)
    elif isinstance(value, float):
        if value == 0 and math.copysign(1.0, value) < 0:
            found.add("-0.0")
        if value.is_integer() and abs(value) >= 2**53:
            found.add("integral float >= 2**53")
        if 0 < abs(value) < 2.2250738585072014e-308:
            found.add("subnormal float")
    elif isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        found.add("int beyond 64 bits")
    return found


def test_random_configs_round_trip_exactly(api):
    ran = 0
    seen: dict[str, int] = {}

    @_SETTINGS
    @given(first=configs, second=configs, meta=configs)
    def check(first, second, meta):
        nonlocal ran
        ran += 1
        for feature in _features([first, second, meta], set()):
            seen[feature] = seen.get(feature, 0) + 1
        bot = BotConfig.objects.create(name="Round trip", slug=next(_slugs))
        expected, metas = write_three_ways(bot, first, second, meta)
        read_back_everywhere(bot, expected, metas, api)

    check()
    vendor = "mariadb" if getattr(connection, "mysql_is_mariadb", False) else connection.vendor
    lines = [f"{vendor}: {ran} examples (max_examples={EXAMPLES}), written 3 ways, read 4 ways"]
    lines += [f"  examples with {name}: {count}" for name, count in sorted(seen.items())]
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"roundtrip-{vendor}.txt").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    assert ran >= min(EXAMPLES, 50)


# The named hostile values -----------------------------------------------------------


def _named(value: Any) -> dict[str, Any]:
    """The value at the top, in a list and in an object, beside near neighbours."""
    return {"value": value, "in": [value, 0, 0.0], "deep": {"x": {"value": value}}, "zero": 0}


HOSTILE = {
    "1e16": 1e16,
    "-0.0": -0.0,
    "12345678901234567890.5": 12345678901234567890.5,
    "max double": 1.7976931348623157e308,
    "min subnormal": 5e-324,
    "2**64": 2**64,
    "-(2**63)-1": -(2**63) - 1,
    "2**53+1": 2**53 + 1,
    "1e16 as int": 10**16,
    "true, not 1": True,
    "text with every plane": "aé€𝄞🔑\u200b\ufeff\U0010fffd",
    "NFD text": NFD,
}


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_named_hostile_value_round_trips(api, value):
    bot = BotConfig.objects.create(name="Hostile", slug=next(_slugs))
    config = _named(value)
    expected, metas = write_three_ways(bot, config, {"other": value}, {"m": value})
    assert len(expected) == 3
    read_back_everywhere(bot, expected, metas, api)


def test_unicode_keys_stay_distinct_and_in_order(api):
    keys = ["ключ", "🔑", NFC, NFD, "z", "a", "10", "9", ""]
    assert len(set(keys)) == len(keys)  # NFC and NFD "é" are two keys
    config: dict[str, Any] = {key: index for index, key in enumerate(keys)}
    config["nested"] = {NFD: {"z": 1, "a": 2}, NFC: [{"b": 1, "a": 0}]}
    bot = BotConfig.objects.create(name="Keys", slug=next(_slugs))
    expected, metas = write_three_ways(bot, config, {"🔑": "only"}, {NFD: 1, NFC: 2})
    read_back_everywhere(bot, expected, metas, api)
    got = BotConfig.objects.get(pk=bot.pk).version_manager.get_version(1).config
    assert list(got) == [*keys, "nested"]
    assert (got[NFC], got[NFD]) == (2, 3)


def test_keys_keep_the_order_they_were_written_in(api):
    config = {"zeta": 1, "alpha": {"y": 1, "b": 2, "a": {"3": 0, "1": 0, "2": 0}}, "mid": []}
    reordered = dict(reversed(list(config.items())))
    bot = BotConfig.objects.create(name="Order", slug=next(_slugs))
    manager = bot.version_manager
    manager.create(config)
    # The same content in another order is the same config: a no-op, order as first written.
    assert manager.update(reordered).unchanged
    read_back_everywhere(bot, [config], [{}], api)


# What no database can store is refused, not mangled -----------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {"a": "x\x00y"},
        {"a\x00": 1},
        {"deep": [{"k": "\x00"}]},
        {"a": "\ud800"},
        {"\udfff": 1},
        {"deep": {"k": ["ok", "lone \udc00 surrogate"]}},
    ],
    ids=["NUL value", "NUL key", "nested NUL", "lone surrogate", "surrogate key", "nested"],
)
def test_nul_and_lone_surrogates_are_refused_and_nothing_is_written(bot, config):
    manager = bot.version_manager
    with pytest.raises(InvalidConfigError):
        manager.create(config)
    assert manager.current_version == 0
    manager.create({"ok": True})
    with pytest.raises(InvalidConfigError):
        manager.update(config)
    with pytest.raises(InvalidConfigError):
        manager.update({"ok": True}, metadata=config)
    bot.refresh_from_db()
    assert bot.current_version == 1
    assert bot.versions.count() == 1
    assert no_break(verify_history(bot))
