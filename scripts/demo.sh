#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine, builds videogemma and runs its main job: the demo
# (synthetic exercise clips -> a tiny model trained through the three stages on the CPU ->
# evaluation against its untrained self and a majority guess -> one answered clip).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/videogemma demo --out runs/demo --overwrite "$@"
