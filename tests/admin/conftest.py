from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

# Each role of the permission matrix and the permissions it holds.
ROLES: dict[str, tuple[str, ...] | None] = {
    "anonymous": None,
    "staff": (),
    "viewer": ("view_botconfig",),
    "editor": ("change_botconfig",),
    "rollbacker": ("change_botconfig", "rollback_botconfig"),
    "superuser": (),
}
PASSWORD = "pw-for-tests"


def make_user(role: str):
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if role == "superuser":
        return user_model.objects.create_superuser(role, f"{role}@example.com", PASSWORD)
    user = user_model.objects.create_user(role, f"{role}@example.com", PASSWORD, is_staff=True)
    codenames = ROLES[role] or ()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="config_versions", codename__in=codenames)
    )
    return user


@pytest.fixture
def client_as(db):
    """``client_as("viewer")``: a logged-in client for a role (anonymous: logged out)."""

    def make(role: str, **kwargs) -> Client:
        client = Client(**kwargs)
        if ROLES[role] is not None:
            client.force_login(make_user(role))
        return client

    return make


@pytest.fixture
def superuser(db):
    return make_user("superuser")


@pytest.fixture
def su_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client
