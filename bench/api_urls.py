"""The example project's URLs plus the floor: bare views on the same table."""

from __future__ import annotations

from django.urls import include, path

from bench import bare_views

urlpatterns = [
    path("bare/configs/<slug:slug>/", bare_views.bare_config, name="bare-config"),
    path("bare-auth/configs/<slug:slug>/", bare_views.bare_auth_config, name="bare-auth-config"),
    path("", include("example_project.urls")),
]
