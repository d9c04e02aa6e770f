#!/usr/bin/env bash
# Configures and builds videogemma into build/ (Release). Extra arguments go to cmake, e.g.
#   scripts/build.sh -DVG_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
# Keep an existing build folder's generator; cmake refuses to switch it.
if [ -f build/CMakeCache.txt ]; then generator=(); fi

cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build --parallel "$(nproc)"
