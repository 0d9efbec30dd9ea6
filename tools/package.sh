#!/usr/bin/env bash
# `make package`: builds the deployable artefacts exactly as a deploy does - `sam build` on
# infra/template.yaml, whose functions use BuildMethod makefile: infra/Makefile ships each
# function's binary from one `cargo build --release --workspace --bins`, the build `make demo`
# already ran (so in CI this step links nothing) - and prints each artefact's size. It then checks
# what Lambda will accept: the machine type, the embedded dependency list, and that no binary needs
# a glibc newer than provided.al2023's. The SAM CLI comes from .venv/package
# (tools/requirements-package.txt), installed by the Makefile.
#
# Architecture: x86_64 (the template's default, and the one this machine builds natively).
# ARCHITECTURE=arm64 builds with cargo-lambda's cross toolchain (also in .venv/package) and needs
# `rustup target add aarch64-unknown-linux-gnu`; it is not built in CI.
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
# infra/Makefile reads it: sam build tells the make method nothing about the template parameter.
export ARCHITECTURE="$architecture"
export PATH="$root/$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-north-1}"

start=$(date +%s)
(
  cd infra
  # build_in_source and the rest: infra/samconfig.toml.
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
  # provided.al2023 has glibc 2.34: a binary linked against a newer symbol version fails to start
  # there ("GLIBC_2.xx not found") although it runs on this machine.
  newest_glibc="$(objdump -T "$f" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)"
  if [[ -z $newest_glibc ]] || [[ "$(printf '%s\n' "$newest_glibc" 2.34 | sort -V | tail -n 1)" != 2.34 ]]; then
    echo "package: $f needs glibc ${newest_glibc:-?} (provided.al2023 has 2.34)" >&2
    exit 1
  fi
  echo "    needs glibc >= $newest_glibc"
  # Every deployed binary carries its dependency list (check-updates reads it; shared/src/deps.rs).
  if ! grep -aq '{"format":"suomifi-ops-deps/1"' "$f"; then
    echo "package: $f carries no embedded dependency list" >&2
    exit 1
  fi
done
