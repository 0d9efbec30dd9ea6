#!/usr/bin/env bash
# Sums cargo's "test result:" lines from a saved test log into one closing line, so the end of
# `make test` says how many tests ran across the whole workspace.
set -euo pipefail
log=${1:?usage: test-summary.sh LOG}
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1); if ($(i) ~ /^ignored;?$/) s += $(i-1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; if (p == 0 || f > 0) exit 1 }' "$log"
