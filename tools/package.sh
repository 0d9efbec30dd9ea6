#!/usr/bin/env bash
# `make package`: builds the deployable artefacts exactly as a deploy does - `sam build` on
# infra/template.yaml, whose functions use BuildMethod rust-cargolambda (`cargo lambda build
# --release` per binary) - and prints each artefact's size. The SAM CLI and cargo-lambda come from
# .venv/package (tools/requirements-package.txt), installed by the Makefile.
#
# Architecture: x86_64 (the template's default, and the one this machine can build natively).
# cargo-lambda then compiles with plain cargo (CARGO_LAMBDA_COMPILER=cargo): no zig, no
# cross-compilation. arm64 needs `rustup target add aarch64-unknown-linux-gnu` and is not built
# here; pass ARCHITECTURE=arm64 to try it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv=.venv/package
for tool in sam cargo-lambda; do
  if [[ ! -x $venv/bin/$tool ]]; then
    echo "package: $venv/bin/$tool is missing - run make package (it installs tools/requirements-package.txt)" >&2
    exit 2
  fi
done

architecture="${ARCHITECTURE:-x86_64}"
export PATH="$root/$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-north-1}"
if [[ $architecture == x86_64 ]]; then
  export CARGO_LAMBDA_COMPILER=cargo
fi

start=$(date +%s)
(
  cd infra
  sam build --parameter-overrides "Architecture=$architecture"
)
elapsed=$(( $(date +%s) - start ))

artefacts=(infra/.aws-sam/build/*/bootstrap)
if [[ ! -e ${artefacts[0]} ]]; then
  echo "package: sam build produced no bootstrap in infra/.aws-sam/build/" >&2
  exit 1
fi
echo "package: $architecture artefacts (sam build took ${elapsed}s):"
for f in "${artefacts[@]}"; do
  function_id="$(basename "$(dirname "$f")")"
  bytes=$(stat -c %s "$f")
  zipped=$(gzip -9 -c "$f" | wc -c)
  # ELF e_machine (bytes 18-19, little-endian): 3e 00 = x86-64, b7 00 = aarch64.
  case "$(od -An -tx1 -j18 -N2 "$f" | tr -d ' \n')" in
    3e00) arch=x86_64 ;;
    b700) arch=arm64 ;;
    *) arch=unknown ;;
  esac
  awk -v id="$function_id" -v b="$bytes" -v z="$zipped" -v a="$arch" \
    'BEGIN { printf "  %-28s %5.1f MiB, %4.1f MiB compressed, %s\n", id, b / 1048576, z / 1048576, a }'
  if [[ $arch != "$architecture" ]]; then
    echo "package: $f is $arch, not $architecture" >&2
    exit 1
  fi
  # Every deployed binary carries its dependency list (check-updates reads it; shared/src/deps.rs).
  if ! grep -aq '{"format":"suomifi-ops-deps/1"' "$f"; then
    echo "package: $f carries no embedded dependency list" >&2
    exit 1
  fi
done
