#!/usr/bin/env python
"""Check a running example site the way a person would first use it, over real HTTP.

    python smoke_check.py --url http://127.0.0.1:8000 --login admin:admin --token KEY

Logs in to the admin, opens the config changelist, a config's change form, history and
diff pages, its proposals and the review page of its newest proposal, and loads every
static file those pages reference; reads a config through the API (ETag, then 304), and
through each of its labels that is set, lists its proposals and reads the newest one
(with its diffs and merge preview), and loads the OpenAPI schema and docs page. Any
missing template, static file or migration shows up as a failed request. Standard
library only, so it runs in any virtualenv that has the app installed, e.g. the
packaging test's.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

STATIC_REF = re.compile(r"""(?:href|src)=["'](/static/[^"'?#]+)""")


class CheckFailed(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    # Every answer is checked as it comes: a login's 302, and no redirect may hide a
    # failing page (an admin page that sends us back to the login form).
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Site:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )
        self.static_seen: set[str] = set()

    def get(
        self, path: str, *, expect: int = 200, headers: dict[str, str] | None = None
    ) -> tuple[str, Any]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        return self._open(request, expect)

    def post_form(self, path: str, fields: dict[str, str], *, expect: int) -> tuple[str, Any]:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")
        return self._open(request, expect)

    def cookie(self, name: str) -> str:
        for cookie in self.cookies:
            if cookie.name == name and cookie.value:
                return cookie.value
        raise CheckFailed(f"no {name} cookie was set")

    def page(self, path: str, must_contain: str = "") -> str:
        body, _ = self.get(path)
        if must_contain and must_contain not in body:
            raise CheckFailed(f"GET {path}: the page does not mention {must_contain!r}")
        refs = sorted(set(STATIC_REF.findall(body)) - self.static_seen)
        for ref in refs:
            self.get(ref)
        self.static_seen.update(refs)
        say(f"ok   GET {path} (and its {len(refs)} new static file(s))")
        return body

    def _open(self, request: urllib.request.Request, expect: int) -> tuple[str, Any]:
        try:
            response = self.opener.open(request, timeout=30)
            status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, exc.read()
        except urllib.error.URLError as exc:
            raise CheckFailed(f"{request.get_method()} {request.full_url}: {exc.reason}") from None
        if status != expect:
            snippet = body[:300].decode("utf-8", "replace")
            raise CheckFailed(
                f"{request.get_method()} {request.full_url}: HTTP {status}, expected {expect}"
                f"\n{snippet}"
            )
        return body.decode("utf-8", "replace"), headers


def check_admin(site: Site, username: str, password: str, slug: str) -> None:
    site.page("/admin/login/", must_contain="csrfmiddlewaretoken")
    site.post_form(
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": site.cookie("csrftoken"),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
        expect=302,
    )
    say(f"ok   logged in to the admin as {username}")
    changelist = site.page("/admin/config_versions/botconfig/", must_contain=slug)
    match = re.search(r'href="(/admin/config_versions/botconfig/(\d+)/change/[^"]*)"', changelist)
    if match is None:
        raise CheckFailed("the changelist links to no config's change form")
    pk = match.group(2)
    site.page(f"/admin/config_versions/botconfig/{pk}/change/", must_contain="reason")
    site.page(f"/admin/config_versions/botconfig/{pk}/history/")
    site.page(f"/admin/config_versions/botconfig/{pk}/diff/")
    proposals = site.page(f"/admin/config_versions/botconfig/{pk}/proposals/")
    match = re.search(rf'href="(/admin/config_versions/botconfig/{pk}/proposals/\d+/)"', proposals)
    if match is not None:
        site.page(match.group(1), must_contain="csrfmiddlewaretoken")


def check_api(site: Site, token: str, slug: str) -> None:
    auth = {"Authorization": f"Token {token}", "Accept": "application/json"}
    body, headers = site.get(f"/api/configs/{slug}/", headers=auth)
    data = json.loads(body)
    if not isinstance(data.get("config"), dict) or not data.get("current_version"):
        raise CheckFailed(f"GET /api/configs/{slug}/ gave no config: {body[:200]}")
    etag = headers.get("ETag")
    if not etag:
        raise CheckFailed(f"GET /api/configs/{slug}/ sent no ETag")
    say(f"ok   GET /api/configs/{slug}/: version {data['current_version']}, ETag {etag}")
    site.get(f"/api/configs/{slug}/", expect=304, headers={**auth, "If-None-Match": etag})
    say(f"ok   GET /api/configs/{slug}/ with If-None-Match: 304")
    check_labels(site, auth, slug)
    check_proposals(site, auth, slug)
    schema, _ = site.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    if "/api/configs/" not in schema:
        raise CheckFailed("the OpenAPI schema does not describe /api/configs/")
    say("ok   GET /api/schema/")
    site.page("/api/docs/")


def check_labels(site: Site, auth: dict[str, str], slug: str) -> None:
    """The config's labels, and each one that is set read as a bot reads it
    (``?label=``: the version it points at, named by the Config-Version header)."""
    body, _ = site.get(f"/api/configs/{slug}/labels/", headers=auth)
    labels = json.loads(body)
    if not isinstance(labels, list):
        raise CheckFailed(f"GET /api/configs/{slug}/labels/ gave no list: {body[:200]}")
    set_ = {entry["label"]: entry["version"] for entry in labels if entry.get("version")}
    say(f"ok   GET /api/configs/{slug}/labels/: {set_ or 'none set'}")
    for name, version in set_.items():
        path = f"/api/configs/{slug}/?label={name}"
        body, headers = site.get(path, headers=auth)
        data = json.loads(body)
        if data.get("version") != version or headers.get("Config-Version") != str(version):
            raise CheckFailed(f"GET {path}: not version {version}: {body[:200]}")
        etag = headers.get("ETag") or ""
        site.get(path, expect=304, headers={**auth, "If-None-Match": etag})
        say(f"ok   GET {path}: version {version}, then 304")


def check_proposals(site: Site, auth: dict[str, str], slug: str) -> None:
    """The config's proposals, and the newest one with what a reviewer reads."""
    path = f"/api/configs/{slug}/proposals/"
    body, _ = site.get(path, headers=auth)
    listed = json.loads(body)
    if not isinstance(listed.get("results"), list):
        raise CheckFailed(f"GET {path} gave no list: {body[:200]}")
    say(f"ok   GET {path}: {listed.get('count', 0)} proposal(s)")
    if not listed["results"]:
        return
    newest = f"{path}{listed['results'][0]['id']}/"
    body, _ = site.get(newest, headers=auth)
    found = json.loads(body)
    if "merge_preview" not in found or "diff_from_base" not in found:
        raise CheckFailed(f"GET {newest} gave no diff or merge preview: {body[:200]}")
    onto = found["merge_preview"]["onto_version"]
    say(f"ok   GET {newest}: {found['status']}, merge preview onto v{onto}")


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--login", required=True, help="USERNAME:PASSWORD of a superuser")
    parser.add_argument("--token", required=True, help="API token of a user who may read")
    parser.add_argument("--slug", default="support-bot", help="a config that exists")
    args = parser.parse_args(argv)
    username, _, password = args.login.partition(":")
    site = Site(args.url)
    try:
        site.page("/", must_contain="/api/docs/")
        check_api(site, args.token, args.slug)
        check_admin(site, username, password, args.slug)
    except CheckFailed as exc:
        print(f"FAIL {exc}", file=sys.stderr, flush=True)
        return 1
    say(f"all checks passed ({len(site.static_seen)} static files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
