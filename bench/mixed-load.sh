#!/usr/bin/env bash
# Tills and the member app at once: closed-loop purchases (purchase.lua) and entries reads
# (entries.lua, always a reader connection) against the same server, 32 connections each, one wrk
# thread each. Binaries alternate per round like alternate-servers.sh (fresh copy of one seeded
# database each, 8 s to settle); compare medians over rounds (docs/PERFORMANCE.md).
#
#   bench/mixed-load.sh 12 3 before=/tmp/encore-server.old after=build/release/api/encore-server
#
# Arguments: DURATION seconds, ROUNDS, then LABEL=BINARY[,SEED_DB] pairs. Environment: BUILD_DIR
# (build-rel, for bench_seed), MEMBERS (100000), PORT (28443), WORK (/tmp/encore-alternate).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # BUILD_DIR, MEMBERS, PORT, WORK defaults
DURATION=$1
ROUNDS=$2
shift 2

ensure_seed
trap stop_server EXIT

# "req/s p99 non-2xx" of a wrk output file.
summary() {
  awk '/Requests\/sec/ {rps = $2} $1 == "99%" {p99 = $2} /Non-2xx/ {bad = $NF}
       END {printf "%s p99=%s non-2xx=%d", rps, p99, bad}' "$1"
}

for round in $(seq "$ROUNDS"); do
  for pair in "$@"; do
    parse_pair "$pair"
    start_fresh_server "$BINARY" "$SEED" "$LABEL" 8
    wrk -t1 -c32 -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/purchase.lua" \
      "https://127.0.0.1:$PORT" >"$WORK/mixed-purchase.out" 2>&1 &
    purchases=$!
    wrk -t1 -c32 -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/entries.lua" \
      "https://127.0.0.1:$PORT" >"$WORK/mixed-entries.out" 2>&1 || true
    wait "$purchases" || true
    echo "round $round $LABEL purchases=$(summary "$WORK/mixed-purchase.out")" \
      "entries=$(summary "$WORK/mixed-entries.out")"
    stop_server
  done
done
