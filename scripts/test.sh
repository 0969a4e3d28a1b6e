#!/usr/bin/env bash
# The whole test suite: lint, types, migrations check, then pytest on SQLite and on
# every server database that answers. Called by `make test` (which builds the venv).
#
# Environment:
#   REQUIRE_ALL_DATABASES=1  fail (instead of skip) when PostgreSQL or MariaDB is down (CI)
#   REQUIRE_BROWSER=1        fail (instead of skip) when Chromium is missing (CI)
#   SKIP_LINT=1              tests only (used for the extra Python/Django combination)
#   SKIP_BROWSER=1           leave out the browser tests (they ran in another pass)
#   PG_URL / MYSQL_URL       where the servers are (defaults: this machine, CI's set-up)
#   PYTEST_ARGS              extra pytest arguments, e.g. "-k admin -x"
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
BIN="$VENV/bin"
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/mysql}
REPORTS=${REPORTS:-build/test-reports}
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
status=0
notes=()

step() { printf '\n== %s\n' "$*"; }
fail() { status=1; notes+=("FAILED: $*"); }

if [ "${SKIP_LINT:-0}" != 1 ]; then
  step "ruff"
  "$BIN/ruff" check . && "$BIN/ruff" format --check . || fail "ruff"
  step "mypy"
  "$BIN/mypy" || fail "mypy"
  step "makemigrations --check"
  "$BIN/python" -m django makemigrations --check --dry-run --settings=tests.settings \
    || fail "migrations are missing"
fi

run_pytest() {  # name, DATABASE_URL, extra args...
  local name=$1 url=$2; shift 2
  step "pytest on $name"
  # shellcheck disable=SC2086
  DATABASE_URL="$url" "$BIN/python" -m pytest -q -p no:cacheprovider \
    --junitxml="$REPORTS/$name.xml" "$@" ${PYTEST_ARGS:-} || fail "tests on $name"
}

# Browser tests need Chromium; where there is none they skip and say so (CI requires it).
browser_args=()
if [ "${SKIP_BROWSER:-0}" = 1 ]; then
  browser_args=(-m "not browser")
elif [ -x /usr/bin/chromium ]; then :; elif [ "${REQUIRE_BROWSER:-0}" = 1 ]; then
  fail "Chromium is not installed (/usr/bin/chromium): browser tests cannot run"
else
  notes+=("SKIPPED: browser tests (no /usr/bin/chromium; apt-get install chromium)")
  browser_args=(-m "not browser")
fi
run_pytest sqlite "" "${browser_args[@]}"

probe() {  # prints nothing and fails when the server does not answer
  DATABASE_URL="$1" "$BIN/python" - <<'PY' 2>/dev/null
import os, dj_database_url
cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
if cfg["ENGINE"].endswith("postgresql"):
    import psycopg
    psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"],
                    password=cfg["PASSWORD"] or None, dbname=cfg["NAME"], connect_timeout=3).close()
else:
    import MySQLdb
    MySQLdb.connect(host=cfg["HOST"], port=int(cfg["PORT"] or 3306), user=cfg["USER"],
                    passwd=cfg["PASSWORD"] or "", connect_timeout=3).close()
PY
}

for server in postgresql mariadb; do
  if [ $server = postgresql ]; then url=$PG_URL; else url=$MYSQL_URL; fi
  if probe "$url"; then
    # The browser tests drive the same admin code; once (on SQLite) is enough.
    run_pytest "$server" "$url" -m "not browser"
  elif [ "${REQUIRE_ALL_DATABASES:-0}" = 1 ]; then
    fail "$server is required but does not answer at $url (or its driver is missing)"
  else
    notes+=("SKIPPED: $server (nothing answers at $url, or its driver is missing)")
  fi
done

step "summary"
"$BIN/python" scripts/summarize_reports.py "$REPORTS" || status=1
for note in "${notes[@]}"; do echo "$note"; done
exit $status
