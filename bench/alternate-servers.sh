#!/usr/bin/env bash
# Before/after comparison of encore-server binaries on this noisy shared machine: for each round,
# each binary in turn gets a fresh copy of one seeded database, 10 s to settle (cache warm-up), and
# one wrk run of SCRIPT. Rounds alternate the binaries so that neighbours' load hits both alike;
# compare medians over rounds (docs/PERFORMANCE.md).
#
#   bench/alternate-servers.sh purchase 12 3 before=/tmp/encore-server.old after=build-rel/api/encore-server
#
# Arguments: SCRIPT (bench/wrk/SCRIPT.lua), DURATION seconds, ROUNDS, then LABEL=BINARY pairs. A
# pair may name its own seeded database as LABEL=BINARY,DB (e.g. a copy of seed.db converted to
# another page size); the default is WORK/seed.db.
# Environment: BUILD_DIR (build-rel, for bench_seed), MEMBERS (100000), PORT (28443), WORK
# (/tmp/encore-alternate: the seeded database and its pos key are kept there between calls).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # BUILD_DIR, MEMBERS, PORT, WORK defaults
SCRIPT=$1
DURATION=$2
ROUNDS=$3
shift 3

ensure_seed
trap stop_server EXIT

for round in $(seq "$ROUNDS"); do
  for pair in "$@"; do
    parse_pair "$pair"
    start_fresh_server "$BINARY" "$SEED" "$LABEL" 10
    out=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/$SCRIPT.lua" \
      "https://127.0.0.1:$PORT" 2>&1)
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "round $round $LABEL req/s=$rps p99=$p99 non-2xx=${non2xx:-0}"
    stop_server
  done
done
