#!/usr/bin/env bash
# Packaging test: does the wheel hold everything a site needs? Builds it, installs it
# (not editable) with the `example` extra into a fresh virtualenv, copies the example
# site alone into a temporary directory (the repository is never on sys.path), then
# runs check, migrate, makemigrations --check and the demo data, serves the site and
# checks the admin pages, their static files and the API over real HTTP.
#
# Environment: VENV (the venv that builds; default .venv), PYTHON (the interpreter of
# the fresh venv; default python3.11), KEEP=1 keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
work=$(mktemp -d "${TMPDIR:-/tmp}/cv-package-test.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
started=$(date +%s)
step() { printf '\n== %s (%d s)\n' "$*" $(( $(date +%s) - started )); }
die() { echo "PACKAGE TEST FAILED: $*" >&2; exit 1; }

step "build the wheel"
"$VENV/bin/python" -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 \
  || { cat "$work/build.log"; die "the wheel did not build"; }
wheel=$(ls "$work"/dist/*.whl)
echo "$(basename "$wheel")"

step "every file of the package is in the wheel"
# Templates, static files and migrations are what a packaging mistake drops first;
# compare against every file git tracks under config_versions/.
"$VENV/bin/python" - "$wheel" <<'PY' || die "files are missing from the wheel"
import subprocess, sys, zipfile
tracked = set(subprocess.run(["git", "ls-files", "config_versions"], capture_output=True,
                             text=True, check=True).stdout.split())
shipped = set(zipfile.ZipFile(sys.argv[1]).namelist())
missing = sorted(tracked - shipped)
for kind in ("migrations/", "templates/", "static/"):
    print(f"{kind:12} {sum(1 for n in shipped if f'/{kind}' in n)} file(s)")
for name in missing:
    print("missing:", name)
if any(n.startswith("tests/") for n in shipped):
    print("the tests must not be shipped"); sys.exit(1)
sys.exit(1 if missing or not tracked else 0)
PY

step "fresh virtualenv with the wheel and the example extra"
"$PYTHON" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --disable-pip-version-check "$wheel[example]" >"$work/pip.log" 2>&1 \
  || { cat "$work/pip.log"; die "pip could not install the wheel"; }
"$py" -m pip list --disable-pip-version-check 2>/dev/null \
  | grep -iE '^(config-versions|django|djangorestframework|drf-spectacular.*|dj-database-url) '


step "the example site, alone"
mkdir "$work/site"
(cd example_project && tar --exclude='__pycache__' --exclude='*.sqlite3' --exclude=staticfiles -cf - .) \
  | tar -xf - -C "$work/site"
cd "$work/site"
export DATABASE_URL="sqlite:///$work/site.sqlite3" DJANGO_DEBUG=1
unset DJANGO_SETTINGS_MODULE PYTHONPATH
location=$("$py" -c "import config_versions; print(config_versions.__file__)")
case $location in
  "$work/venv/"*) echo "config_versions from $location" ;;
  *) die "config_versions was imported from $location, not from the installed wheel" ;;
esac
case $location in "$repo"/*) die "the repository leaked onto sys.path" ;; esac

step "manage.py check, migrate, makemigrations --check, collectstatic"
"$py" manage.py check --fail-level WARNING
"$py" manage.py migrate --noinput -v 0
"$py" manage.py makemigrations --check --dry-run \
  || die "the installed app needs migrations it does not ship"
"$py" manage.py collectstatic --noinput -v 0 || die "collectstatic failed"
"$py" manage.py load_demo_configs >/dev/null
token=$("$py" manage.py drf_create_token bot-runtime | awk '{print $3}')

step "serve and check the admin and the API over HTTP"
port=$("$py" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$py" manage.py runserver --noreload "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  "$py" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; die "the server did not start"; }
  sleep 0.2
done
"$py" smoke_check.py --url "http://127.0.0.1:$port" --login admin:admin --token "$token" \
  || { tail -n 40 "$work/server.log"; die "the site does not work from the installed wheel"; }

step "package test passed"
