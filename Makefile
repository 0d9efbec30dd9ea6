# Two commands matter: `make demo` (the main job, locally, against the stand-ins) and `make test`
# (everything CI checks). Both install what they need.

SHELL := /bin/bash
CARGO ?= cargo
PY ?= python3
VENV := .venv
STANDINS := $(VENV)/standins/.installed
INFRA := $(VENV)/infra/.installed
CHECKOV := $(VENV)/checkov/.installed
PACKAGE := $(VENV)/package/.installed

.PHONY: all venv build lint unit test test-rust fuzz-replay infra-check package demo bench fuzz fault-campaign clean

all: test

# Python stand-ins and offline IaC tools, each in its own virtualenv (their pins conflict).
$(VENV)/%/.installed: tools/requirements-%.txt
	$(PY) -m venv $(VENV)/$*
	$(VENV)/$*/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

venv: $(STANDINS) $(INFRA) $(CHECKOV)

build:
	$(CARGO) build --workspace --bins

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Unit tests only: no stand-ins needed.
unit:
	$(CARGO) test --workspace --lib --bins

# All Rust tests, including those against moto, the Suomi.fi sandbox and the Lambda Runtime API.
test-rust: $(STANDINS) build
	@mkdir -p target
	set -o pipefail; $(CARGO) test --workspace 2>&1 | tee target/test-output.log

# Every input ever kept for the fuzz targets (seeds, fixed crashes) replayed through its check:
# deterministic, stable toolchain, no instrumentation. `make fuzz` does the fuzzing itself.
fuzz-replay:
	@mkdir -p target
	set -o pipefail; CARGO_TARGET_DIR=$(CURDIR)/target $(CARGO) test --manifest-path fuzz/Cargo.toml 2>&1 | tee -a target/test-output.log

infra-check: $(INFRA) $(CHECKOV)
	tools/infra-check.sh

test: venv lint test-rust fuzz-replay infra-check
	@echo "make test: fmt, clippy, IaC checks passed"
	@tools/test-summary.sh target/test-output.log

# The deployable artefacts exactly as a deploy builds them: `sam build` (makefile method,
# infra/Makefile: one workspace release build) for x86_64, with the SAM CLI from PyPI; prints each
# artefact's size and checks machine type, dependency list and glibc.
package: $(PACKAGE)
	tools/package.sh

demo: $(STANDINS)
	$(CARGO) build --release --workspace --bins
	tools/demo.sh

bench: $(STANDINS)
	$(CARGO) build --release --workspace --bins
	tools/bench.sh

# Every parser that meets outside input, fuzzed briefly (FUZZ_SECONDS each; long runs: see BENCHMARKS.md).
FUZZ_SECONDS ?= 20
fuzz:
	tools/fuzz.sh $(FUZZ_SECONDS)

# The full randomised rotation campaign (make test runs a smaller one).
FAULT_CAMPAIGN_CASES ?= 1000
fault-campaign: $(STANDINS) build
	FAULT_CAMPAIGN_CASES=$(FAULT_CAMPAIGN_CASES) FAULT_CAMPAIGN_BINARY_CASES=25 $(CARGO) test -p integration-tests --test fault_campaign -- --nocapture

clean:
	$(CARGO) clean
	rm -rf $(VENV)
