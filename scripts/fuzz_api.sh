#!/usr/bin/env bash
# Fuzz the REST API with schemathesis against the OpenAPI schema the example project
# serves: a real server (gunicorn) on a loopback port, a fresh database with the demo
# configs, authenticated with the token of a superuser. Fails on any 5xx, on any answer
# that does not match the schema (status code, headers, content type, body), on a
# schema-violating request accepted and on a schema-valid one refused (see below).
#
# Environment:
#   VENV           the virtualenv (default .venv)
#   DATABASE_URL   where the site's data goes (default: a fresh SQLite file, removed after);
#                  a server database given here should be a scratch one: the run writes to it
#   MAX_EXAMPLES   test cases per operation and phase (default 60)
#   SEED           schemathesis seed (default: a random one, printed so a run can be redone)
#   REPORTS        where the JUnit report goes (default build/fuzz-reports)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
MAX_EXAMPLES=${MAX_EXAMPLES:-60}
SEED=${SEED:-$RANDOM$RANDOM}
REPORTS=${REPORTS:-build/fuzz-reports}
work=$(mktemp -d)
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export DJANGO_SETTINGS_MODULE=example_project.settings
export DJANGO_DEBUG=0 DJANGO_SECRET_KEY="fuzz-only-$(date +%s%N)"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export DATABASE_URL=${DATABASE_URL:-sqlite:///$work/fuzz.sqlite3}
MANAGE=("$PY" example_project/manage.py)

echo "== database and demo data (${DATABASE_URL%%:*})"
"${MANAGE[@]}" migrate --noinput -v 0
"${MANAGE[@]}" load_demo_configs >/dev/null
token=$("${MANAGE[@]}" shell -v 0 -c '
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
user, _ = get_user_model().objects.get_or_create(
    username="fuzzer", defaults={"is_staff": True, "is_superuser": True}
)
print(Token.objects.get_or_create(user=user)[0].key)' | tail -n 1)
[[ $token =~ ^[0-9a-f]{40}$ ]] || { echo "no API token for the fuzzer: $token" >&2; exit 1; }

port=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
base="http://127.0.0.1:$port"
echo "== server on $base"
# --limit-request-line 0: the fuzzer writes URLs longer than gunicorn's default 4 KB
# request line, and the application, not the front server, is under test.
"$VENV/bin/gunicorn" example_project.wsgi --chdir example_project --bind "127.0.0.1:$port" \
  --workers 2 --threads 4 --limit-request-line 0 \
  --log-level warning --error-logfile "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "$base/api/schema/" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done

# Every check runs (--checks all), with these expectations:
# - A schema-valid read is answered (2xx, 304), or names what does not exist (404), or
#   fails its If-Match (412: no schema can say which entity tag is current). Never 400:
#   every rule on query parameters, path segments and headers is in the schema.
# - A schema-valid write may also be refused for what the schema cannot express: each
#   config's own JSON Schema, the site's validators, unique slugs, NUL characters inside a
#   config, its size and depth limits (400), and which version is current (409).
# - The coverage phase draws header values from letters and digits only, so it has no
#   valid If-Match (each needs `"` or `*`) and sends its invalid sample ("0") in cases it
#   labels valid; those are rightly 400. The other phases send valid ones.
# - Repeated query parameters (?limit=1&limit=2) are sent too: their 400 is declared.
cat >"$work/schemathesis.toml" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "412"]

[phases.coverage]
generate-duplicate-query-parameters = true

[[operations]]
include-method = ["POST", "PUT"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "412"]

[[operations]]
include-method = "GET"
include-path = ["/api/configs/{slug}/", "/api/configs/{slug}/versions/{version}/"]
phases.coverage.checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "412"]
TOML

echo "== schemathesis (seed $SEED, $MAX_EXAMPLES examples per operation and phase)"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
status=0
"$VENV/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/api/schema/" \
  --header "Authorization: Token $token" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 1 \
  --request-timeout 30 \
  --suppress-health-check too_slow \
  --report junit,har \
  --report-junit-path "$REPORTS/schemathesis.xml" --report-har-path "$REPORTS/schemathesis.har" \
  || status=$?

# What the server answered, per operation: proof the run reached past the 4xx walls.
"$PY" - "$REPORTS/schemathesis.har" <<'PY'
import collections, json, re, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
counts = collections.defaultdict(collections.Counter)
for entry in entries:
    path = re.sub(r"^https?://[^/]+", "", entry["request"]["url"]).split("?")[0]
    path = re.sub(r"^/api/configs/[^/]+/", "/api/configs/{slug}/", path)
    path = re.sub(r"/versions/[^/]+/$", "/versions/{version}/", path)
    counts[f'{entry["request"]["method"]} {path}'][entry["response"]["status"]] += 1
print(f"== {len(entries)} requests; answers per operation:")
for operation in sorted(counts):
    answers = ", ".join(f"{code}: {n}" for code, n in sorted(counts[operation].items()))
    print(f"   {operation:45} {answers}")
server_errors = sum(n for c in counts.values() for code, n in c.items() if code >= 500)
print(f"== 5xx answers: {server_errors}")
sys.exit(1 if server_errors else 0)
PY
[ $? -eq 0 ] || status=1

if grep -q "Internal Server Error\|Traceback" "$work/server.log"; then
  echo "== the server logged errors:"
  cat "$work/server.log"
  status=1
fi
exit $status
