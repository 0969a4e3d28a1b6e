#!/usr/bin/env python
"""A bot's side of config_versions: follow one config's release through the REST API.

It polls ``GET /api/configs/<slug>/?label=production`` with ``If-None-Match``, so an
unchanged config costs one 304 and no body. A running bot runs what was promoted to
production, not every edit: a new version alone reloads nothing. When the label moves
(a promotion, or a move back) it
reloads the config, asks the API who moved the label and why (``labels/<label>/``),
what changed (``diff/``) and, for a promotion, which versions it brings and why
(``versions/?since_version=``), and prints it:

    python bot_client.py support-bot --token KEY                  # follow production
    python bot_client.py support-bot --token KEY --label staging  # or another label
    python bot_client.py support-bot --token KEY --label latest   # or every new version
    python bot_client.py support-bot --token KEY --once           # print the config, exit

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
DEFAULT_LABEL = "production"


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


class ConfigFollower:
    """The config of one bot as the server last gave it, and the means to refresh it.

    ``label`` is the label followed (``production``, ``staging``, ``latest`` ...); None
    reads the config without one, i.e. what the site serves by default.
    """

    def __init__(
        self,
        base_url: str,
        slug: str,
        token: str | None,
        timeout: float = 10,
        label: str | None = DEFAULT_LABEL,
    ) -> None:
        self.api = base_url.rstrip("/") + "/api/configs/" + urllib.parse.quote(slug) + "/"
        self.url = self.api + (f"?{urllib.parse.urlencode({'label': label})}" if label else "")
        self.slug = slug
        self.label = label
        self.token = token
        self.timeout = timeout
        self.etag: str | None = None
        self.version = 0
        self.config: JSON | None = None
        self.last_status = 0

    def poll(self) -> tuple[int, int] | None:
        """Fetch the config unless unchanged; (old version, new version) when it moved."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        status, body, response_headers = self._request(self.url, headers)
        self.last_status = status
        if status == 304:
            return None
        if self.label and "version" not in body:
            raise ApiError(0, f"the server ignored ?label={self.label}: it serves no labels")
        old = self.version
        self.etag = response_headers.get("ETag")
        # "version" (and "current_version") is the version served: where the label points.
        self.version = int(body["version"] if self.label else body["current_version"])
        self.config = body["config"]
        return (old, self.version) if self.version != old else None

    @property
    def name(self) -> str:
        """How the output names what is followed: ``support-bot@production``."""
        return f"{self.slug}@{self.label}" if self.label else self.slug

    def last_move(self) -> JSON | None:
        """Who moved the followed label last, and why (``labels/<label>/``); None when
        following ``latest`` or no label, which nobody moves."""
        if not self.label or self.label == "latest":
            return None
        _, body, _ = self._request(f"{self.api}labels/{urllib.parse.quote(self.label)}/")
        return dict(body)

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
                    say(f"{follower.name}: loaded version {new} ({keys})")
                else:
                    back = " back" if new < old else ""
                    say(f"{follower.name}: version {old} -> {new}{back}, reloaded")
                    move = follower.last_move()
                    if move is not None:
                        author = move.get("updated_by") or "unknown"
                        say(f"  {follower.label} moved by {author}: {move.get('reason') or ''}")
                    # A promotion brings the versions written since; a move back none.
                    for version in follower.versions_since(old) if new > old else []:
                        if int(version["version"]) > new:
                            break
                        author = version.get("created_by") or "unknown"
                        say(f"  v{version['version']} by {author}: {version.get('reason', '')}")
                    for change in follower.changes(old, new):
                        say(describe_change(change))
            if once:
                say(json.dumps(follower.config, indent=2, sort_keys=True))
                return 0
        except ApiError as exc:
            print(f"{follower.name}: {exc}", file=sys.stderr, flush=True)
            # Wrong token, missing permission, no such config or label: will not fix itself;
            # a network blip may. (400: a label the site does not declare.)
            if once or exc.status in (400, 401, 403, 404):
                return 2 if exc.status in (401, 403) else 1
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Follow a bot config's release through the API.")
    parser.add_argument("slug", help="slug of the bot config, e.g. support-bot")
    parser.add_argument(
        "--label",
        default=DEFAULT_LABEL,
        help=f"label to follow (default: {DEFAULT_LABEL}); 'latest' follows every new version",
    )
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
    follower = ConfigFollower(args.url, args.slug, args.token, label=args.label or None)
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
