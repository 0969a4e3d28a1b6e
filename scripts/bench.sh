#!/usr/bin/env bash
# The side-by-side benchmark of issue 7, called by `make bench`: config_versions beside
# django-reversion, django-simple-history and a raw-SQL floor on SQLite and PostgreSQL,
# then the API under load (gunicorn + wrk), then bench/RESULTS.md and bench/results.png.
#
# Environment:
#   PG_URL         the PostgreSQL server (default: this machine); the bench creates and
#                  drops its own databases there (cv_bench, cv_bench_api), nothing else
#   BENCH_QUICK=1  toy sizes and 2-second load runs: a smoke test that every workload
#                  runs and checks its results; writes to build/bench-quick, not bench/
#   BENCH_SECONDS  length of each load-test scenario (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
BIN="$VENV/bin"
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
start=$(date +%s)

"$BIN/python" -m pip install --quiet -e '.[bench]'

run_args=()
api_args=(--seconds "${BENCH_SECONDS:-10}")
results=bench/results
markdown=bench/RESULTS.md
plot=bench/results.png
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  run_args=(--quick)
  api_args=(--seconds 2 --versions 20)
  results=build/bench-quick/results
  markdown=build/bench-quick/RESULTS.md
  plot=build/bench-quick/results.png
fi
rm -rf "$results" && mkdir -p "$results"

pg_up() {
  DATABASE_URL="$PG_URL" "$BIN/python" - <<'PY' 2>/dev/null
import os, dj_database_url, psycopg
c = dj_database_url.parse(os.environ["DATABASE_URL"])
psycopg.connect(host=c["HOST"], port=c["PORT"] or None, user=c["USER"] or None,
                password=c["PASSWORD"] or None, dbname=c["NAME"], connect_timeout=3).close()
PY
}

echo "== SQLite"
env -u DATABASE_URL "$BIN/python" -m bench.run "${run_args[@]}" --out "$results/sqlite.json"
if pg_up; then
  echo "== PostgreSQL"
  DATABASE_URL="$PG_URL" "$BIN/python" -m bench.run "${run_args[@]}" --out "$results/postgresql.json"
else
  echo "note: PostgreSQL at $PG_URL does not answer; its columns stay empty" >&2
fi

if command -v wrk >/dev/null 2>&1; then
  echo "== API under load, SQLite"
  env -u DATABASE_URL "$BIN/python" -m bench.api_load "${api_args[@]}" --out "$results/api-sqlite.json"
  if pg_up; then
    echo "== API under load, PostgreSQL"
    DATABASE_URL="$PG_URL" "$BIN/python" -m bench.api_load "${api_args[@]}" \
      --out "$results/api-postgresql.json"
  fi
else
  echo "note: wrk is not installed (apt-get install wrk): the API load test is skipped" >&2
fi

"$BIN/python" -m bench.report --results "$results" --markdown "$markdown" --plot "$plot"
echo "== bench finished in $(( $(date +%s) - start )) s: $markdown"
