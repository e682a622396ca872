#!/usr/bin/env bash
# Runs the request-decoding fuzzer (tests/fuzz) for SECONDS (default 60) from the seed corpus.
#   scripts/fuzz.sh [SECONDS]
# Configures build/fuzz with clang++, -DENCORE_FUZZ=ON (libFuzzer + ASan + UBSan). New inputs go
# to build/fuzz/corpus (the checked-in seeds stay untouched); crashes to build/fuzz/artifacts/.
set -euo pipefail

SECONDS_TO_RUN=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build/fuzz

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DENCORE_FUZZ=ON -DENCORE_TESTS=ON >/dev/null
ninja -C "$BUILD" fuzz_request_decode

mkdir -p "$BUILD/corpus" "$BUILD/artifacts"
"$BUILD/tests/fuzz/fuzz_request_decode" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 \
  -timeout=10 -artifact_prefix="$BUILD/artifacts/" -print_final_stats=1 \
  "$BUILD/corpus" "$ROOT/tests/fuzz/corpus"
