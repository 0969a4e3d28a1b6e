#!/usr/bin/env bash
# `make demo`: the example site with demo data, served on http://127.0.0.1:${PORT:-8000}/.
# Migrates, loads the demo configs and logins (again is harmless: nothing changes),
# prints where to go, then runs Django's development server until Ctrl-C.
#
# Environment: VENV (default .venv), PORT (default 8000), DATABASE_URL (default: the
# SQLite file example_project/db.sqlite3).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PORT=${PORT:-8000}
PY="$VENV/bin/python"
# A DJANGO_SETTINGS_MODULE left in the shell (tests.settings, say) must not win over the site's.
MANAGE=(env -u DJANGO_SETTINGS_MODULE "$PY" example_project/manage.py)
started=$(date +%s)

step() { printf '\n== %s\n' "$*"; }

missing=$("$PY" - <<'PY'
import importlib.util
names = ["django", "rest_framework", "drf_spectacular", "drf_spectacular_sidecar", "dj_database_url"]
print(" ".join(n for n in names if importlib.util.find_spec(n) is None))
PY
)
if [ -n "$missing" ]; then
  echo "The demo needs these packages in $VENV: $missing" >&2
  echo "Install them with: $VENV/bin/pip install -e '.[example]'" >&2
  exit 1
fi

# A busy port would only fail after the set-up; say so first, with the way out.
if ! "$PY" -c "import socket; socket.create_server(('127.0.0.1', $PORT)).close()" 2>/dev/null; then
  echo "Port $PORT on 127.0.0.1 is in use. Try: PORT=$((PORT + 1)) make demo" >&2
  exit 1
fi

step "database (${DATABASE_URL:-sqlite example_project/db.sqlite3})"
"${MANAGE[@]}" migrate --noinput -v 0
echo "migrated"

step "demo data"
"${MANAGE[@]}" load_demo_configs
# DRF's own command: prints the existing token of the demo bot account.
token=$("${MANAGE[@]}" drf_create_token bot-runtime | awk '{print $3}')

base="http://127.0.0.1:$PORT"
step "ready in $(( $(date +%s) - started )) s: open these"
cat <<TEXT
  Admin     $base/admin/            (admin / admin, or priya / demo ...)
  API       $base/api/configs/
  API docs  $base/api/docs/

  Releases: each config has a staging and a protected production label. Editors (marcus,
  sofia) may move staging ("Promote to..."); production moves only through review: a
  proposal (lena may only propose), approved by someone else (amara reviews, so do the
  Leads) and applied by a Lead (priya, jonas). Each bot has proposals waiting.

  A bot reading its production config (ETag: send it back as If-None-Match and get a 304
  until the config changes):
    curl -i -H "Authorization: Token $token" "$base/api/configs/support-bot/?label=production"

  A bot that follows production and prints each release (to see one, approve lena's open
  proposal on support-bot as amara, then apply it as priya; --label latest follows every
  edit instead):
    $PY example_project/bot_client.py support-bot --url $base --token $token --interval 2

  DEMO ONLY: the passwords above are public. Stop the server with Ctrl-C.
TEXT

step "serving on $base"
exec "${MANAGE[@]}" runserver "127.0.0.1:$PORT"
