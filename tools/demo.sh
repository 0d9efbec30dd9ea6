#!/usr/bin/env bash
# `make demo`: the main job, locally, in one command.
#
# Installs what it needs (the moto stand-in in .venv/standins, as `make venv` would; the release
# binaries, a no-op right after `make demo` built them), then runs the demo program: moto and the
# Suomi.fi sandbox as stand-ins, the real Lambda binaries through the Lambda Runtime API, each
# notification shown as e-mail and chat readers see it, a summary table at the end.
#
# Exit code: the demo's — 0 only if every step behaved as expected. Nothing is left running: the
# demo kills the function processes and stops moto before it exits (and moto's wrapper dies with
# the demo's stdin pipe even if the demo is killed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO=${CARGO:-cargo}
PY=${PY:-python3}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

# 1. The stand-ins: moto server in its own virtualenv (skipped when MOTO_SERVER names one).
if [[ -z "${MOTO_SERVER:-}" && ! -f .venv/standins/.installed ]]; then
  echo "demo: installing the stand-ins (moto) into .venv/standins ..."
  make --no-print-directory PY="$PY" .venv/standins/.installed
fi

# 2. The binaries the demo runs, in release (the profile Lambda gets). The same command as the
#    Makefile's, so it is a no-op right after `make demo` built them (a narrower `-p` selection
#    would unify dependency features differently and rebuild).
echo "demo: building the release binaries (nothing to do if they are up to date) ..."
"$CARGO" build --release --quiet --workspace --bins

# 3. The demo itself.
export SUOMIFI_OPS_BIN_DIR="$PWD/$TARGET_DIR/release"
exec "$SUOMIFI_OPS_BIN_DIR/demo" "$@"
