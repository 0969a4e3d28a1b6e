from __future__ import annotations

import pytest
from django.test import override_settings

from config_versions import conf
from config_versions.conf import settings as cv_settings
from config_versions.core.proposals import ReviewPolicy


def test_every_key_has_a_typed_property():
    properties = {
        name for name, value in vars(conf.Settings).items() if isinstance(value, property)
    }

    assert properties == set(conf.DEFAULTS)
    for name in properties:
        assert "return" in vars(conf.Settings)[name].fget.__annotations__, name


def test_defaults():
    for name, default in conf.DEFAULTS.items():
        if name == "REVIEW":  # read as a policy, not a dict
            assert ReviewPolicy.from_mapping(default) == cv_settings.REVIEW
            assert ReviewPolicy() == cv_settings.REVIEW
            continue
        assert getattr(cv_settings, name) == default, name


def test_length_limits_default_to_ten_thousand_characters():
    assert cv_settings.MAX_REASON_LENGTH == 10_000
    assert cv_settings.MAX_DESCRIPTION_LENGTH == 10_000


def test_reads_the_live_setting():
    with override_settings(CONFIG_VERSIONS={"MAX_DEPTH": 5, "REQUIRE_PRECONDITION": True}):
        assert cv_settings.MAX_DEPTH == 5
        assert cv_settings.REQUIRE_PRECONDITION is True
        assert cv_settings.API_PAGE_SIZE == 50
    assert cv_settings.MAX_DEPTH == 32
    assert cv_settings.REQUIRE_PRECONDITION is False


def test_missing_setting_means_defaults(settings):
    del settings.CONFIG_VERSIONS

    assert cv_settings.MAX_DEPTH == 32
    assert conf.get("MAX_DEPTH") == 32
    assert conf.user_settings() == {}


@pytest.mark.parametrize("value", [["MAX_DEPTH", 3], "MAX_DEPTH=3", 3, {"MAX_DEPTH"}])
def test_non_dict_reads_as_defaults(value):
    # checks.py reports it (E005); reading must not crash meanwhile.
    with override_settings(CONFIG_VERSIONS=value):
        assert conf.user_settings() == {}
        assert conf.get("MAX_DEPTH") == 32
        assert cv_settings.MAX_DEPTH == 32
        assert cv_settings.VALIDATORS == []


def test_path_lists_are_lists_and_copies():
    cv_settings.API_PERMISSION_CLASSES.append("tests.x")
    assert conf.DEFAULTS["API_PERMISSION_CLASSES"] == [
        "config_versions.api.permissions.BotConfigPermission"
    ]

    with override_settings(CONFIG_VERSIONS={"VALIDATORS": ("a.b", "c.d")}):
        assert cv_settings.VALIDATORS == ["a.b", "c.d"]


def test_authentication_classes_none_or_list():
    assert cv_settings.API_AUTHENTICATION_CLASSES is None
    paths = ("rest_framework.authentication.TokenAuthentication",)
    with override_settings(CONFIG_VERSIONS={"API_AUTHENTICATION_CLASSES": paths}):
        classes = cv_settings.API_AUTHENTICATION_CLASSES
    assert classes == list(paths)


def test_get_refuses_unknown_names():
    with pytest.raises(KeyError, match="MAX_DEPHT"):
        conf.get("MAX_DEPHT")


def test_the_review_policy_follows_the_setting_even_when_changed_in_place():
    review = {"required_approvals": 2}
    with override_settings(CONFIG_VERSIONS={"REVIEW": review}):
        assert cv_settings.REVIEW.required_approvals == 2
        assert cv_settings.REVIEW is cv_settings.REVIEW  # built once per value
        review["required_approvals"] = 3
        assert cv_settings.REVIEW.required_approvals == 3
    assert cv_settings.REVIEW.required_approvals == 1
