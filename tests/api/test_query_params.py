"""Numbers in URLs are ASCII digits with a value: anything else is a 400 naming it.

DRF read ``?limit=`` as if the parameter were absent and took whatever ``int()`` takes,
so ``?limit=`` with a fullwidth 5, ``versions/1.0/`` and ``versions/`` with an
Arabic-Indic 1 answered as if the client had written 5 and 1.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"
HISTORY = f"{URL}versions/"
DIFF = f"{URL}diff/"
LIST = "/api/configs/"
ASCII_NUMBER = re.compile(r"[0-9]+")

# (path, parameter) for every integer query parameter.
PARAMETERS = [
    (HISTORY, "limit"),
    (HISTORY, "since_version"),
    (HISTORY, "page"),
    (DIFF, "from_version"),
    (DIFF, "to_version"),
    (LIST, "page"),
]

NOT_ASCII_NUMBERS = [
    "\uff15",  # FULLWIDTH DIGIT FIVE
    "\u0661",  # ARABIC-INDIC DIGIT ONE
    "\u0968",  # DEVANAGARI DIGIT TWO
    "1\uff10",  # an ASCII digit, then a fullwidth one
    "1.0",
    "1_0",
    " 1",
    "1 ",
    "+1",
    "0x1",
    "1e0",
    "\u00b9",  # SUPERSCRIPT ONE: str.isdigit() says yes, int() says no
]


def _query(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}"


@pytest.mark.parametrize(("path", "name"), PARAMETERS)
def test_an_empty_value_is_400_naming_the_parameter(admin_api, history_bot, path, name):
    response = admin_api.get(f"{path}?{name}=")
    assert response.status_code == 400, response.content
    assert response.json() == {name: ["Give a number: the parameter has no value."]}


@pytest.mark.parametrize(("path", "name"), PARAMETERS)
@pytest.mark.parametrize("value", NOT_ASCII_NUMBERS)
def test_anything_but_ascii_digits_is_400(admin_api, history_bot, path, name, value):
    response = admin_api.get(_query(path, **{name: value}))
    assert response.status_code == 400, response.content
    assert response.json() == {name: ["A valid integer is required: ASCII digits 0-9 only."]}


@pytest.mark.parametrize("segment", ["1.0", "1.", "\uff11", "\u0661", "+1", "1_0", "%201", "01a"])
def test_a_version_in_the_path_is_ascii_digits(admin_api, history_bot, segment):
    response = admin_api.get(f"{HISTORY}{segment}/")
    assert response.status_code == 400, response.content
    assert response.json() == {"version": ["A valid integer is required: ASCII digits 0-9 only."]}


def test_numbers_that_are_ascii_digits_still_work(admin_api, history_bot):
    assert admin_api.get(f"{HISTORY}1/").json()["version"] == 1
    assert admin_api.get(f"{HISTORY}001/").json()["version"] == 1
    body = admin_api.get(_query(HISTORY, limit="2", since_version="0", page="1")).json()
    assert [v["version"] for v in body["results"]] == [3, 2]
    body = admin_api.get(_query(DIFF, from_version="1", to_version="2")).json()
    assert (body["from_version"], body["to_version"]) == (1, 2)


def test_out_of_range_and_far_out_of_range(admin_api, history_bot):
    # Digits beyond what int() converts are still "too large", not "not a number".
    for value in ("2147483648", "9" * 5000):
        response = admin_api.get(_query(HISTORY, limit=value))
        assert response.status_code == 400
        assert response.json() == {
            "limit": ["Ensure this value is less than or equal to 2147483647."]
        }
    response = admin_api.get(_query(HISTORY, limit="-" + "9" * 5000))
    assert response.json() == {"limit": ["Ensure this value is greater than or equal to 1."]}
    assert admin_api.get(_query(LIST, page="0")).status_code == 400
    # Well-formed but past the last page: there is no such page.
    assert admin_api.get(_query(LIST, page="2")).status_code == 404


_NOT_A_NUMBER = st.text(max_size=12).filter(lambda text: not ASCII_NUMBER.fullmatch(text))
_OTHER_DIGITS = st.text(st.characters(categories=["Nd"]), min_size=1, max_size=4).filter(
    lambda text: not text.isascii()
)
_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(value=st.one_of(_NOT_A_NUMBER, _OTHER_DIGITS), where=st.sampled_from(PARAMETERS))
def test_any_query_value_but_ascii_digits_is_400(admin_api, history_bot, value, where):
    path, name = where
    if value.startswith("-") and ASCII_NUMBER.fullmatch(value[1:]):
        # "-0" is 0: a valid since_version. The other negatives are out of range.
        value = "x" + value
    response = admin_api.get(_query(path, **{name: value}))
    assert response.status_code == 400, (value, response.content)
    assert list(response.json()) == [name]


@_SETTINGS
@given(segment=st.one_of(_NOT_A_NUMBER.filter(bool), _OTHER_DIGITS))
def test_any_version_segment_but_ascii_digits_is_400_or_404(admin_api, history_bot, segment):
    # 404 only when the segment cannot reach the view ("/" in it, or "." and "..").
    response = admin_api.get(f"{HISTORY}{quote(segment, safe='')}/")
    assert response.status_code in (400, 404), (segment, response.content)
    if "/" not in segment and segment not in {".", ".."}:
        assert response.status_code == 400, (segment, response.content)
