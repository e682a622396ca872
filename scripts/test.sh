#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite twice: an optimised build, then an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/encore-ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
# Hits across clones: CI builds a fresh clone at another path; rewrite paths relative to it.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
jobs="$(nproc)"

echo "== OpenAPI lint =="
bash scripts/lint-openapi.sh

echo "== release build + tests =="
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j "$jobs"
ctest --test-dir build/release -j2 --output-on-failure --timeout 600

echo "== sanitizer build (ASan + UBSan) + tests =="
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DENCORE_SANITIZE=ON >/dev/null
cmake --build build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ENCORE_SANITIZED_RUN=1 ctest --test-dir build/asan -j2 --output-on-failure --timeout 900
