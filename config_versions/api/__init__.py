"""The REST API (Django REST framework), mounted with include("config_versions.api.urls").

Set-up, in the host project::

    INSTALLED_APPS += ["rest_framework", "rest_framework.authtoken", "config_versions"]
    urlpatterns += [path("api/", include("config_versions.api.urls"))]

Bots authenticate with DRF's token authentication: give the bot a user with the
permissions it needs (``view_botconfig`` to read; ``change_botconfig`` to write new
versions; ``rollback_botconfig`` to roll back; ``add_botconfig`` to create configs;
``promote_botconfig`` to move labels, and ``promote_protected_botconfig`` too for a
protected one), create its key with ``manage.py drf_create_token <username>`` (or in
the admin, under "Tokens"), and send it on every request::

    Authorization: Token <key>

Token authentication must be among the site's ``DEFAULT_AUTHENTICATION_CLASSES`` or
named in ``CONFIG_VERSIONS["API_AUTHENTICATION_CLASSES"]``; list it first to have
unauthenticated requests answered 401 (with ``WWW-Authenticate: Token``) rather than 403.

A bot polls its config with the ETag it was last given::

    GET /api/configs/support-bot/          ->  200, ETag: "v3-…"
    GET ... If-None-Match: "v3-…"          ->  304, no body, one query

and writes without losing anyone else's edit::

    PUT /api/configs/support-bot/  If-Match: "v3-…"   {"config": {...}, "reason": "..."}
        -> 200 with the new version, or 412 if someone wrote version 4 meanwhile
    PUT ... {"config": {...}, "expected_version": 3}
        -> 200, or 409 {"expected_version": 3, "actual_version": 4}

A bot that runs what was released reads a label (``Config-Version`` names the version)::

    GET /api/configs/support-bot/?label=production   ->  200, ETag: "v2-…", Config-Version: 2
    PUT /api/configs/support-bot/labels/production/  {"version": 3, "reason": "..."}

``CONFIG_VERSIONS["REQUIRE_PRECONDITION"] = True`` makes one of the two mandatory (428
without; for label moves too: If-Match with the label's ETag, or expected_version). The
OpenAPI schema (drf-spectacular) documents every answer.
"""
