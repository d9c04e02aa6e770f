#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine, builds videogemma and runs every test.
# CUDA tests skip themselves when no GPU is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh "$@"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 900
