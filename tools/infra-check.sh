#!/usr/bin/env bash
# Offline checks of the AWS SAM template(s) in infra/: cfn-lint, `sam validate --lint`, checkov.
# Run from anywhere; `make test` runs it. Exits non-zero if any check fails (all checks still run,
# so one CI run shows every problem). Needs the virtualenvs from tools/requirements-*.txt:
#   .venv/infra   (cfn-lint, aws-sam-cli)     .venv/checkov (checkov)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# SAM CLI: no telemetry (no network here), and a region, which `sam validate` requires offline too.
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-north-1}"

cfn_lint=.venv/infra/bin/cfn-lint
sam=.venv/infra/bin/sam
checkov=.venv/checkov/bin/checkov
for tool in "$cfn_lint" "$sam" "$checkov"; do
  if [[ ! -x $tool ]]; then
    echo "infra-check: $tool is missing - create the virtualenvs first (make venv)" >&2
    exit 2
  fi
done

shopt -s nullglob
templates=(infra/*.yaml)
# Only CloudFormation/SAM templates (samconfig.toml and other files are not templates).
mapfile -t templates < <(grep -l '^AWSTemplateFormatVersion:' "${templates[@]}" /dev/null)
if (( ${#templates[@]} == 0 )); then
  echo "infra-check: no templates found in infra/" >&2
  exit 2
fi

failed=()
run() {
  echo "+ $*"
  if ! "$@"; then
    failed+=("$*")
  fi
}

for t in "${templates[@]}"; do
  run "$cfn_lint" "$t"
  run "$sam" validate --lint --template "$t"
  # Checks skipped on purpose are listed in the template (Metadata: checkov: skip) with a reason.
  # --skip-download: offline, no platform calls. checkov 3.3.30 logs "Failed to create a new template
  # with enriched resources: get is invalid" because of Fn::ForEach; it then scans the functions
  # without Globals, which (checked by hand with Globals inlined) finds exactly the same results.
  run "$checkov" --file "$t" --framework cloudformation --skip-download --quiet --compact
done

if (( ${#failed[@]} )); then
  echo "infra-check: FAILED:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "infra-check: all checks passed on: ${templates[*]}"
