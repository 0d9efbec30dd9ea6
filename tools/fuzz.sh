#!/usr/bin/env bash
# Fuzzes every parser that meets outside input (targets in fuzz/fuzz_targets/, checks in
# fuzz/src/lib.rs), on the stable toolchain.
#
#   tools/fuzz.sh [seconds-per-target] [target ...]
#
# Default: 20 s per target (what CI runs), every target. A long run, e.g. overnight:
#   tools/fuzz.sh 3600            # an hour per target
#   tools/fuzz.sh 0 certificates  # one target until stopped (Ctrl-C)
#
# Steps:
#   1. replay every kept input (fuzz/seeds/, and fuzz/artifacts/ from earlier runs) through its
#      check with plain `cargo test` — no libFuzzer, no nightly;
#   2. build the targets with cargo-fuzz (libFuzzer + AddressSanitizer). cargo-fuzz passes
#      nightly-only `-Z` flags; RUSTC_BOOTSTRAP=1 lets the stable compiler accept them (no nightly
#      toolchain is needed or fetched). FUZZ_SANITIZER=none builds without ASan (faster).
#      FUZZ_TARGET_DIR=<dir> keeps the instrumented build elsewhere (e.g. a cache that outlives
#      a CI checkout; the first build of all targets takes 20-40 minutes on 2 cores).
#   3. run each target for the given time, starting from its seeds; the growing corpus is kept in
#      fuzz/corpus/<target>/ (not committed). A crash or timeout stops that target, leaves the
#      input in fuzz/artifacts/<target>/ and makes this script exit 1 after the other targets ran.
#
# A crash found: fix the cause, then copy the input to fuzz/seeds/<target>/ so it is replayed
# forever (step 1). A defect in code owned elsewhere: file it and keep the input in
# fuzz/findings/<target>/ (replayed by `cargo test -- --ignored` until fixed).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-20}"
shift || true
sanitizer="${FUZZ_SANITIZER:-address}"
fuzz_args=(--sanitizer "$sanitizer")
if [[ -n "${FUZZ_TARGET_DIR:-}" ]]; then
  fuzz_args+=(--target-dir "$FUZZ_TARGET_DIR")
fi
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz from crates.io" >&2
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

echo "== replaying kept inputs (stable, no instrumentation)"
# Shares the workspace's target directory: the dependencies are already built there.
CARGO_TARGET_DIR="$root/target" cargo test --manifest-path "$root/fuzz/Cargo.toml" --quiet

echo "== building fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build "${fuzz_args[@]}"

if (( $# )); then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

failed=()
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${secs}s"
  mkdir -p "corpus/$t"
  # -timeout: one input taking longer than 10 s is a finding (a parser that can be made to hang).
  # -rss_limit_mb: so is one needing more than 2 GiB.
  if ! cargo fuzz run "${fuzz_args[@]}" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$t")
  fi
done

if (( ${#failed[@]} )); then
  echo "fuzz: FAILED targets: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${secs}s each without a finding"
