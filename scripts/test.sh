#!/usr/bin/env bash
# The whole test suite: lint, types, migrations check, then pytest on SQLite and on
# every server database that answers. Called by `make test` (which builds the venv).
#
# Environment:
#   REQUIRE_ALL_DATABASES=1  fail (instead of skip) when PostgreSQL or MariaDB is down (CI)
#   REQUIRE_BROWSER=1        fail (instead of skip) when Chromium is missing (CI)
#   CHROMIUM                 the browser the browser tests launch (default /usr/bin/chromium)
#   COVERAGE_GATE=0          report coverage but never fail on it (the gate, `fail_under`
#                            in pyproject.toml, applies only when the whole suite ran on
#                            SQLite, PostgreSQL and MariaDB; a partial run just reports)
#   SKIP_LINT=1              tests only (used for the extra Python/Django combination)
#   SKIP_BROWSER=1           leave out the browser tests (they ran in another pass)
#   PG_URL / MYSQL_URL       where the servers are (defaults: this machine, CI's set-up)
#   PYTEST_ARGS              extra pytest arguments, e.g. "-k admin -x"
#   SERIAL=1                 run the PostgreSQL and MariaDB passes one after the other
#   MEASURE=0                no coverage (an extra combination whose figure is not gated)
#   SKIP_SERVERS=1           SQLite only (an extra combination; the servers ran in another)
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
BIN="$VENV/bin"
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/mysql}
REPORTS=${REPORTS:-build/test-reports}
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
# Each pytest run writes its own coverage data file here; they are combined at the end.
export COVERAGE_FILE="$(cd "$REPORTS" && pwd)/.coverage"
status=0
notes=()
ran=()        # the databases pytest ran on
gate_off=()   # why the coverage gate does not apply to this run

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

# Coverage comes with the `test` extra; a venv from before it still runs the tests.
measure=${MEASURE:-1}
if [ "$measure" = 0 ]; then gate_off+=("MEASURE=0")
elif ! "$BIN/python" -c 'import coverage' 2>/dev/null; then
  measure=0
  if [ "${REQUIRE_ALL_DATABASES:-0}" = 1 ]; then fail "coverage is not installed in $VENV"; fi
fi

run_pytest() {  # name, DATABASE_URL, extra args...
  local name=$1 url=$2 cov=(); shift 2
  step "pytest on $name"
  [ $measure = 0 ] || cov=(-m coverage run --context="$name")
  # shellcheck disable=SC2086
  DATABASE_URL="$url" "$BIN/python" "${cov[@]}" -m pytest -q -p no:cacheprovider \
    --junitxml="$REPORTS/$name.xml" "$@" ${PYTEST_ARGS:-} || fail "tests on $name"
  ran+=("$name")
}

# Browser tests need Chromium; where there is none they skip and say so (CI requires it).
browser_args=()
if [ "${SKIP_BROWSER:-0}" = 1 ]; then
  browser_args=(-m "not browser")
elif [ -x "$CHROMIUM" ]; then :; elif [ "${REQUIRE_BROWSER:-0}" = 1 ]; then
  fail "Chromium is not installed ($CHROMIUM): browser tests cannot run"
else
  notes+=("SKIPPED: browser tests (no $CHROMIUM; apt-get install chromium)")
  browser_args=(-m "not browser")
fi
[ ${#browser_args[@]} -eq 0 ] || gate_off+=("browser tests left out")
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

# The server databases run at the same time (SERIAL=1: one after the other): much of
# their time is spent waiting on the server, and each has a database of its own. Each
# pass's output is kept and printed whole when it ends.
servers=()
candidates=(postgresql mariadb)
if [ "${SKIP_SERVERS:-0}" = 1 ]; then
  candidates=()
  notes+=("SKIPPED: PostgreSQL and MariaDB (SKIP_SERVERS=1)")
fi
for server in "${candidates[@]}"; do
  if [ $server = postgresql ]; then url=$PG_URL; else url=$MYSQL_URL; fi
  if probe "$url"; then
    servers+=("$server")
  elif [ "${REQUIRE_ALL_DATABASES:-0}" = 1 ]; then
    fail "$server is required but does not answer at $url (or its driver is missing)"
  else
    notes+=("SKIPPED: $server (nothing answers at $url, or its driver is missing)")
  fi
done
server_pass() {  # name: runs the pass, its output to $REPORTS/<name>.log, exit status kept
  local url=$PG_URL
  [ "$1" = postgresql ] || url=$MYSQL_URL
  # The browser tests drive the same admin code, and tests/core is the framework-free
  # core (no database at all): once, on SQLite, is enough for both.
  ( status=0; notes=(); ran=()
    run_pytest "$1" "$url" -m "not browser" --ignore=tests/core
    echo $status >"$REPORTS/$1.status" ) >"$REPORTS/$1.log" 2>&1
}
pids=()
for server in "${servers[@]}"; do
  if [ "${SERIAL:-0}" = 1 ]; then server_pass "$server"; else server_pass "$server" & pids+=($!); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
for server in "${servers[@]}"; do
  cat "$REPORTS/$server.log"
  ran+=("$server")
  [ "$(cat "$REPORTS/$server.status" 2>/dev/null)" = 0 ] || fail "tests on $server"
done

step "coverage"
# One figure for the SQLite, PostgreSQL and MariaDB runs together. The gate (fail_under in
# pyproject.toml) is set for that figure, so it applies only when all three ran the whole suite.
for name in sqlite postgresql mariadb; do
  [[ " ${ran[*]} " == *" $name "* ]] || gate_off+=("no $name run")
done
[ -z "${PYTEST_ARGS:-}" ] || gate_off+=("PYTEST_ARGS selects part of the suite")
[ "${COVERAGE_GATE:-1}" != 0 ] || gate_off+=("COVERAGE_GATE=0")
coverage_line=""
if [ "${MEASURE:-1}" = 0 ]; then notes+=("SKIPPED: coverage (MEASURE=0)")
elif [ $measure = 0 ]; then notes+=("SKIPPED: coverage (not installed in $VENV; make test installs it)"); fi
percent() { "$BIN/python" -m coverage report --fail-under=0 --format=total "$@"; }
if [ $measure = 0 ]; then :
elif "$BIN/python" -m coverage combine -q; then
  "$BIN/python" -m coverage report --fail-under=0 >"$REPORTS/coverage.txt"
  tail -n 1 "$REPORTS/coverage.txt"
  total=$(percent)
  gate=$("$BIN/python" -c 'import tomllib
print(tomllib.load(open("pyproject.toml", "rb"))["tool"]["coverage"]["report"]["fail_under"])')
  each=()
  for name in "${ran[@]}"; do
    each+=("$name $(percent --contexts="^$name\$")%")  # the lines that run covered
  done
  printf -v each_line '%s, ' "${each[@]}"
  coverage_line="coverage: $total% of config_versions, lines and branches (${each_line%, })"
  if [ ${#gate_off[@]} -gt 0 ]; then
    printf -v why '%s, ' "${gate_off[@]}"
    coverage_line+=", gate of $gate% not applied"
    notes+=("SKIPPED: coverage gate of $gate% (${why%, }): the figure is not comparable")
  elif "$BIN/python" -m coverage report >/dev/null; then
    coverage_line+=", gate of $gate% met"
  else
    coverage_line+=", UNDER the gate of $gate%"
    fail "coverage: $total% is under the gate of $gate% (fail_under in pyproject.toml)"
  fi
else
  fail "coverage: no data to combine"
fi

step "summary"
"$BIN/python" scripts/summarize_reports.py "$REPORTS" || status=1
[ -z "$coverage_line" ] || echo "$coverage_line (per file: $REPORTS/coverage.txt)"
for note in "${notes[@]}"; do echo "$note"; done
exit $status
