#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine, builds videogemma and runs its main job.
# Until the end-to-end demo lands (train and evaluate a tiny exercise-coaching model), the main
# job is a short CPU kernel benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/videogemma bench ops --quick
