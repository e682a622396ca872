#!/usr/bin/env bash
# How much a tier recompute (or an expiry run) stalls the tills: paced purchases (about 1,200/s,
# bench/wrk/purchase_paced.lua) for DURATION seconds, and `encore-admin tiers recompute` started
# 5 s in, against a fresh copy of the seeded database per run. Each round runs every
# maintenance_chunk_members value given (1000000: the whole walk in one transaction, as before
# the job was split into pieces); compare the purchases' p99 and max latency in one round.
#
#   bench/maintenance-stall.sh 20 3 1000000 1000
#
# Arguments: DURATION seconds, ROUNDS, then chunk sizes. Environment: BUILD_DIR (build-rel),
# MEMBERS (100000), PORT (28443), WORK (/tmp/encore-alternate: shares alternate-servers.sh's seed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # BUILD_DIR, MEMBERS, PORT, WORK defaults
DURATION=$1
ROUNDS=$2
shift 2

ensure_seed
trap stop_server EXIT

for round in $(seq "$ROUNDS"); do
  for chunk in "$@"; do
    rm -f "$WORK"/run.db*
    cp "$WORK/seed.db" "$WORK/run.db"
    # A seed kept from an older build has an older schema; the server would migrate it, but the
    # key is made before the server starts.
    "$BUILD_DIR/tools/encore-admin" --db "$WORK/run.db" migrate >/dev/null
    admin_key=$("$BUILD_DIR/tools/encore-admin" --db "$WORK/run.db" keys create --role admin \
      --name "bench-admin" | grep -o 'enc_[A-Za-z0-9_-]*' | head -1)
    ENCORE_MAINTENANCE_CHUNK_MEMBERS=$chunk "$BUILD_DIR/api/encore-server" --db "$WORK/run.db" \
      --program "$ROOT/examples/program.json" --listen "127.0.0.1:$PORT" \
      2>"$WORK/server-chunk-$chunk.log" &
    SERVER_PID=$!
    wait_ready
    sleep 5
    wrk -t2 -c64 -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/purchase_paced.lua" \
      "https://127.0.0.1:$PORT" >"$WORK/wrk-chunk-$chunk.txt" 2>&1 &
    wrk_pid=$!
    sleep 5
    started=$(date +%s%N)
    ENCORE_ADMIN_KEY=$admin_key "$BUILD_DIR/tools/encore-admin" --server "https://127.0.0.1:$PORT" \
      --insecure tiers recompute >/dev/null
    recompute_ms=$((($(date +%s%N) - started) / 1000000))
    wait "$wrk_pid"
    out=$(cat "$WORK/wrk-chunk-$chunk.txt")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    max=$(awk '$1 == "Latency" {print $4}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "round $round chunk=$chunk recompute_ms=$recompute_ms req/s=$rps p99=$p99 max=$max" \
      "non-2xx=${non2xx:-0}"
    stop_server
  done
done
