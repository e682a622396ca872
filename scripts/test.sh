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

echo "== fuzz request decoding (libFuzzer, ${ENCORE_FUZZ_SECONDS:-60} s) =="
# Exploration is random: a new finding is printed loudly (artifact under build/fuzz/artifacts/,
# add it to tests/fuzz/corpus/ with the fix) but does not fail this run. The checked-in corpus,
# every past finding included, is then replayed as a deterministic gate.
mkdir -p build
if ! bash scripts/fuzz.sh "${ENCORE_FUZZ_SECONDS:-60}" >build/fuzz-run.log 2>&1; then
  tail -n 40 build/fuzz-run.log
  echo "FUZZER FOUND A NEW CRASHING INPUT (see above; artifact in build/fuzz/artifacts/)"
else
  tail -n 4 build/fuzz-run.log
fi
build/fuzz/tests/fuzz/fuzz_request_decode tests/fuzz/corpus/* >build/fuzz-replay.log 2>&1
echo "replayed $(ls tests/fuzz/corpus | wc -l) corpus inputs: no crash"

echo "== release build + tests =="
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j "$jobs"
ctest --test-dir build/release -j2 --output-on-failure --timeout 600

echo "== sanitizer build (ASan + UBSan) + tests =="
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DENCORE_SANITIZE=ON >/dev/null
cmake --build build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ENCORE_SANITIZED_RUN=1 ctest --test-dir build/asan -j2 --output-on-failure --timeout 900
