"""`make demo`'s script, run twice as a newcomer would, against a fresh SQLite file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The script always serves the demo from its own SQLite file, whatever database the
# suite runs on, so one run (the SQLite pass) covers it.
pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "sqlite").startswith("sqlite"),
    reason="scripts/demo.sh is tested once, in the SQLite run",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def run_demo(port: int, database: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{database}",
        VENV=str(Path(sys.executable).parent.parent),
    )
    process = subprocess.Popen(
        ["bash", "scripts/demo.sh"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # runserver's reloader has a child: stop the whole group
    )
    output = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        for line in process.stdout:
            output.append(line)
            if "Quit the server with" in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert "Quit the server with" in text, text
        base = f"http://127.0.0.1:{port}"
        assert status(f"{base}/admin/login/") == 200
        assert status(f"{base}/api/configs/") == 401  # the API wants the printed token
        assert status(f"{base}/api/docs/") == 200
        assert (
            status(f"{base}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css") == 200
        )
        # The printed curl line, as a newcomer pastes it: production, not the newest version.
        token = text.split("API token of bot-runtime (read only): ")[1].split()[0]
        request = urllib.request.Request(
            f"{base}/api/configs/support-bot/?label=production",
            headers={"Authorization": f"Token {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
            assert response.headers["Config-Version"] == "7"
        assert (body["label"], body["version"], body["current_version"]) == ("production", 7, 7)
        return text
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_demo_sets_up_serves_and_reuses_everything_the_second_time(tmp_path):
    database = tmp_path / "demo.sqlite3"

    first = run_demo(free_port(), database)

    assert "Created bot config support-bot with 9 versions" in first
    assert "Released support-bot: production at v7, staging at v9" in first
    assert "Proposals of support-bot: 1 open, 1 approved, 6 applied" in first
    assert (
        "Who may move the labels: staging (Editors and Leads), production (protected, "
        "reviewed: Leads and Reviewers approve, Leads apply)"
    ) in first
    assert "production moves only through review" in first
    assert '"$base/api/configs/support-bot/?label=production"' not in first  # filled in
    assert "/api/configs/support-bot/?label=production" in first
    token = first.split("API token of bot-runtime (read only): ")[1].split()[0]
    assert f'curl -i -H "Authorization: Token {token}"' in first
    assert "admin / admin" in first

    second = run_demo(free_port(), database)

    assert "Nothing to do: the demo data is already loaded." in second
    assert f'curl -i -H "Authorization: Token {token}"' in second


def test_a_busy_port_is_named_with_the_way_out(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            ["bash", "scripts/demo.sh"],
            cwd=REPO,
            env={
                **os.environ,
                "PORT": str(port),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                "VENV": str(Path(sys.executable).parent.parent),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is in use. Try: PORT={port + 1} make demo" in result.stderr
    assert not (tmp_path / "demo.sqlite3").exists()  # nothing was set up
