#!/usr/bin/env bash
# Benchmarks the functions through the Lambda Runtime API on this machine and writes the results
# into BENCHMARKS.md (between the bench:results markers). `make bench` runs it.
#
#   tools/bench.sh            # everything (about 10 minutes after the release build)
#   tools/bench.sh --quick    # fewer repetitions and backlog sizes up to 100 k (a smoke run)
#   tools/bench.sh -- --only cold,size     # arguments after `--` go to bench-runner
#
# What it builds: the three functions, the sandbox and the benchmark helpers in the release
# profile (the deployed one), and the runner itself in the dev profile (its own speed is not
# measured: everything it times runs in a release process of its own). Needs the moto virtualenv
# (`make venv`) and python3 (zipping).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

runner_args=()
quick=0
while (( $# )); do
  case "$1" in
    --quick) quick=1 ;;
    --) shift; runner_args+=("$@"); break ;;
    *) echo "usage: tools/bench.sh [--quick] [-- bench-runner args]" >&2; exit 2 ;;
  esac
  shift
done
if (( quick )); then
  runner_args=(--cold-runs 5 --rotations 4 --backlog 10000,100000 --backlog-runs 1 \
    --endpoints 50,500 --probe-runs 1 "${runner_args[@]}")
fi

if [[ ! -x .venv/standins/bin/moto_server ]]; then
  echo "bench: moto is missing - run 'make venv' first" >&2
  exit 2
fi

echo "== building release binaries"
cargo build --release --workspace \
  --bin rotate-password --bin check-retrieval --bin check-certificates --bin check-updates \
  --bin suomifi-sandbox --bin bench-hello --bin bench-floor-scan --bin bench-tls-farm --bin bench-probe-floor
cargo build --workspace --bin bench-runner

out="target/bench"
mkdir -p "$out"
echo "== measuring (function logs: $out/functions.log)"
target/debug/bench-runner --work-dir "$out" --json "$out/results.json" "${runner_args[@]}" \
  | tee "$out/results.md"

# Machine facts next to the numbers: they mean little without them.
{
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),"
  echo "$(rustc --version), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  if (( quick )); then echo "Quick run (tools/bench.sh --quick): fewer repetitions."; fi
  echo
  cat "$out/results.md"
} > "$out/section.md"

python3 - "$out/section.md" BENCHMARKS.md <<'PY'
import re, sys
section = open(sys.argv[1]).read()
path = sys.argv[2]
doc = open(path).read()
start, end = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
if start not in doc or end not in doc:
    sys.exit(f"{path} has no {start} ... {end} markers")
new = re.sub(re.escape(start) + ".*?" + re.escape(end),
             lambda _: f"{start}\n{section.rstrip()}\n{end}", doc, flags=re.S)
open(path, "w").write(new)
print(f"bench: results written to {path}")
PY
