#!/usr/bin/env python
"""A bot's side of config_versions: follow one config through the REST API.

It polls ``GET /api/configs/<slug>/`` with ``If-None-Match``, so an unchanged config
costs one 304 and no body. When the version moves it reloads the config, asks the API
what changed (``diff/``) and why (``versions/?since_version=``), and prints it:

    python bot_client.py support-bot --token KEY                # follow, every 5 s
    python bot_client.py support-bot --token KEY --once         # print the config, exit

Standard library only: a bot needs none of Django to read its configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, TextIO

JSON = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


class ConfigFollower:
    """The config of one bot as the server last gave it, and the means to refresh it."""

    def __init__(self, base_url: str, slug: str, token: str | None, timeout: float = 10) -> None:
        self.api = base_url.rstrip("/") + "/api/configs/" + urllib.parse.quote(slug) + "/"
        self.slug = slug
        self.token = token
        self.timeout = timeout
        self.etag: str | None = None
        self.version = 0
        self.config: JSON | None = None
        self.last_status = 0

    def poll(self) -> tuple[int, int] | None:
        """Fetch the config unless unchanged; (old version, new version) when it moved."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        status, body, response_headers = self._request(self.api, headers)
        self.last_status = status
        if status == 304:
            return None
        old = self.version
        self.etag = response_headers.get("ETag")
        self.version = int(body["current_version"])
        self.config = body["config"]
        return (old, self.version) if self.version != old else None

    def changes(self, old: int, new: int) -> list[JSON]:
        query = urllib.parse.urlencode({"from_version": old, "to_version": new})
        _, body, _ = self._request(f"{self.api}diff/?{query}")
        return list(body["changes"])

    def versions_since(self, old: int) -> list[JSON]:
        query = urllib.parse.urlencode({"since_version": old})
        _, body, _ = self._request(f"{self.api}versions/?{query}")
        # The history may come paginated ({"results": [...]}) or as a plain list.
        items = body["results"] if isinstance(body, dict) else body
        return sorted(items, key=lambda v: int(v["version"]))

    def _request(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.load(response), response.headers
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return 304, None, exc.headers
            raise ApiError(exc.code, _error_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApiError(0, f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


def describe_change(change: JSON) -> str:
    mark = {"add": "+", "remove": "-", "replace": "~"}.get(change["op"], "?")
    path = change["path"] or "/"
    if change["op"] == "add":
        return f"  {mark} {path}: {_short(change['to'])}"
    if change["op"] == "remove":
        return f"  {mark} {path}: {_short(change['from'])}"
    return f"  {mark} {path}: {_short(change['from'])} -> {_short(change['to'])}"


def follow(
    follower: ConfigFollower,
    *,
    interval: float,
    once: bool,
    out: TextIO,
    on_reload: Callable[[JSON], None] = lambda config: None,
) -> int:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    while True:
        try:
            moved = follower.poll()
            if moved is not None:
                assert follower.config is not None
                old, new = moved
                on_reload(follower.config)
                if old == 0:
                    keys = ", ".join(sorted(follower.config))
                    say(f"{follower.slug}: loaded version {new} ({keys})")
                else:
                    say(f"{follower.slug}: version {old} -> {new}, reloaded")
                    for version in follower.versions_since(old):
                        author = version.get("created_by") or "unknown"
                        say(f"  v{version['version']} by {author}: {version.get('reason', '')}")
                    for change in follower.changes(old, new):
                        say(describe_change(change))
            if once:
                say(json.dumps(follower.config, indent=2, sort_keys=True))
                return 0
        except ApiError as exc:
            print(f"{follower.slug}: {exc}", file=sys.stderr, flush=True)
            # Wrong token or missing permission will not fix itself; a network blip may.
            if once or exc.status in (401, 403, 404):
                return 2 if exc.status in (401, 403) else 1
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Follow a bot config through the API.")
    parser.add_argument("slug", help="slug of the bot config, e.g. support-bot")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="site root URL")
    parser.add_argument(
        "--token",
        default=os.environ.get("CONFIG_API_TOKEN"),
        help="API token (default: $CONFIG_API_TOKEN)",
    )
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    parser.add_argument("--once", action="store_true", help="print the config once and exit")
    args = parser.parse_args(argv)
    if args.interval <= 0:
        parser.error("--interval must be positive")
    follower = ConfigFollower(args.url, args.slug, args.token)
    try:
        return follow(follower, interval=args.interval, once=args.once, out=sys.stdout)
    except KeyboardInterrupt:
        return 0


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.load(exc)
    except ValueError:
        return str(exc.reason)
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return json.dumps(body)


if __name__ == "__main__":
    sys.exit(main())
