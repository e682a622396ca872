#!/usr/bin/env bash
# Installs dependencies, builds, and runs encore-server on its embedded defaults: an SQLite file
# under ./dev/, a generated development certificate, and the sample program
# (examples/program.json). Prints a first admin key on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/encore-ccache}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release --target encore-server encore-admin
mkdir -p dev
if [ ! -f dev/encore.db ]; then
  echo "== first run: creating dev/encore.db and an admin key (shown once) =="
  ./build/release/tools/encore-admin --db dev/encore.db init
fi
exec ./build/release/api/encore-server --db dev/encore.db --program examples/program.json \
  --listen "${ENCORE_LISTEN:-127.0.0.1:8443}" "$@"
