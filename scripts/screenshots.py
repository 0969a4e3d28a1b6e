"""Screenshots of the admin's change form, history, diff, rollback, labels and proposals,
light and dark.

Run from the repository root: ``.venv/bin/python scripts/screenshots.py``. It builds a
throw-away SQLite test database (tests.settings), loads a realistic history through
the version manager, serves the site with Django's live-server thread and drives
Debian's Chromium with Playwright, writing ``docs/screenshots/{page}-{scheme}.png``.
``--only proposal`` writes only the pages whose names start so (here: the proposals').
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.pop("DATABASE_URL", None)  # always the throw-away SQLite file

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from config_versions.models import BotConfig  # noqa: E402
from tests.browser.support import (  # noqa: E402
    CHROMIUM,
    PASSWORD,
    launch,
    login,
    make_history,
    second_config,
)

VIEWPORT = {"width": 1280, "height": 800}
# The label shots run with these declared; the others with none, as the admin looks
# on a site without labels.
LABELS = {"staging": {}, "production": {"protected": True}}
# The proposal shots: production moves only by applying an approved proposal.
REVIEWED = {"LABELS": LABELS, "REVIEW": {"labels": ["production"]}}


def load_demo() -> BotConfig:
    users = {}
    user_model = get_user_model()
    for name in ("admin", "alice", "bob"):
        users[name] = user_model.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
    # Someone who may see configs and propose changes, nothing more.
    pat = user_model.objects.create_user("pat", "pat@example.com", PASSWORD, is_staff=True)
    pat.user_permissions.set(
        Permission.objects.filter(codename__in=["view_botconfig", "propose_botconfig"])
    )
    bot = BotConfig.objects.create(
        name="Support bot",
        slug="support-bot",
        description="Answers customer questions on the web chat and by email.",
    )
    make_history(bot, users)
    with override_settings(CONFIG_VERSIONS={"LABELS": LABELS}):
        manager = bot.get_version_manager(user=users["bob"])
        manager.set_label("production", 2, reason="Claude 3.5 in production", created_by="bob")
        manager.set_label("staging", 2, reason="Try Claude 3.5", created_by="alice")
        manager.set_label("staging", 5, reason="Try more context", created_by="alice")
    with override_settings(CONFIG_VERSIONS=REVIEWED):
        load_proposals(bot, users)
    return bot


def load_proposals(bot: BotConfig, users: dict[str, Any]) -> None:
    """Two proposals made from version 4 while alice saved version 5 (top_k 6): the
    first merges cleanly (bob approved it), the second changes top_k too."""
    alice = bot.get_version_manager(user=users["alice"])
    bob = bot.get_version_manager(user=users["bob"])
    warmer = second_config()
    warmer["prompts"]["greeting"] = "Hello! What can I do for you today?"
    warmer["llm"]["temperature"] = 0.4
    warmer["guardrails"]["blocked_topics"].append("financial advice")
    alice.propose(
        warmer,
        4,
        reason="Warmer greeting, steadier replies, and no financial advice.\n"
        "Support leads asked for it after last week's transcripts.",
        created_by="alice",
        label="production",
    )
    bob.review_proposal(
        1, "approve", "bob", comment="Read the transcripts: the new greeting tests better."
    )
    cheaper = second_config()
    cheaper["retrieval"]["top_k"] = 3
    cheaper["llm"]["max_tokens"] = 512
    bob.propose(cheaper, 4, reason="Fewer chunks and shorter replies: cheaper", created_by="bob")


def scroll_to(page: Page, selector: str, margin: int = 12) -> None:
    page.eval_on_selector(
        selector, f"e => window.scrollTo(0, e.getBoundingClientRect().top + scrollY - {margin})"
    )


def shoot(
    page: Page, base: str, bot: BotConfig, out: Path, scheme: str, only: str = ""
) -> list[Path]:
    admin = f"{base}/admin/config_versions/botconfig/{bot.pk}"
    shots: list[Path] = []

    def snap(name: str, shown: Page = page, *, full_page: bool = False) -> None:
        if name.startswith(only):
            shots.append(out / f"{name}-{scheme}.png")
            shown.screenshot(path=str(shots[-1]), full_page=full_page)

    # The change form, mid-edit: the editor, its live check, the reason.
    page.goto(f"{admin}/change/")
    config = page.input_value("#id_config")
    page.fill("#id_config", config.replace('"top_k": 6', '"top_k": 8'))
    page.fill("#id_reason", "Retrieve more context")
    page.locator("#id_reason").blur()
    page.locator("#id_config").evaluate("e => { e.setSelectionRange(0, 0); e.scrollTop = 0; }")
    scroll_to(page, "fieldset:has(#id_config)", margin=8)
    snap("change_form")

    page.goto(f"{admin}/history/")
    snap("history")

    page.goto(f"{admin}/diff/?from=1&to=2")
    snap("diff")

    # Rolling back asks first: the diff from the current config to the target.
    page.goto(f"{admin}/rollback/1/")
    snap("rollback")

    with override_settings(CONFIG_VERSIONS={"LABELS": LABELS}):
        # The history with each label's badge, and a "Promote to …" per row.
        page.goto(f"{admin}/history/")
        snap("history_labels")

        # Promoting asks first: the diff from what production serves to version 5.
        page.goto(f"{admin}/promote/production/5/")
        page.fill("#id_reason", "More context helped on staging")
        page.locator("#id_reason").blur()
        snap("promote")

        page.goto(f"{admin}/labels/")
        snap("label_history")

    with override_settings(CONFIG_VERSIONS=REVIEWED):
        # A config's proposals, the one awaiting review first.
        page.goto(f"{admin}/proposals/")
        snap("proposals")
        # The review page of an approved proposal made from an older version: what it
        # proposes, and what applying it would write on top of the newest version.
        page.goto(f"{admin}/proposals/1/")
        page.fill("#id_comment", "Looks right; ship it after the weekly sync.")
        page.locator("#id_comment").blur()
        snap("proposal")
        page.eval_on_selector("#cv-base-summary", "e => e.scrollIntoView()")
        snap("proposal_diffs")
        # One whose edits conflict with the newest version: the places, with each value.
        page.goto(f"{admin}/proposals/2/")
        snap("proposal_conflicts")
        # The change form of someone who may only propose: "Propose change", a label.
        assert page.context.browser is not None
        context = page.context.browser.new_context(viewport=VIEWPORT, color_scheme=scheme)  # type: ignore[arg-type]
        context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        proposer = context.new_page()
        login(proposer, base, "pat")
        proposer.goto(f"{admin}/change/")
        config = proposer.input_value("#id_config")
        proposer.fill("#id_config", config.replace('"top_k": 6', '"top_k": 5'))
        proposer.fill("#id_reason", "Five chunks are enough")
        proposer.select_option("#id_target_label", "production")
        proposer.locator("#id_config").evaluate(
            "e => { e.setSelectionRange(0, 0); e.scrollTop = 0; }"
        )
        # The whole page: the editor, the target label and "Propose change" below.
        snap("proposal_change_form", proposer, full_page=True)
        context.close()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", default="", help="only the pages whose names start so")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"Chromium not found at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs a loop
    args.out.mkdir(parents=True, exist_ok=True)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    try:
        bot = load_demo()
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        base = f"http://127.0.0.1:{server.port}"
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for scheme in ("light", "dark"):
                context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)  # type: ignore[arg-type]
                # The navigation sidebar closed, as a narrow screen would: room for the diff.
                context.add_init_script(
                    "localStorage.setItem('django.admin.navSidebarIsOpen', 'false')"
                )
                page = context.new_page()
                login(page, base, "admin")
                for shot in shoot(page, base, bot, args.out, scheme, args.only):
                    print(shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot)
                context.close()
            browser.close()
    finally:
        server.terminate()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
