#!/usr/bin/env bash
# HTTP API load run (docs/PERFORMANCE.md (section "HTTP API")): builds RelWithDebInfo, seeds a temporary database
# (100k members + 5 hot members), starts encore-server on 127.0.0.1, and runs each wrk scenario
# over HTTPS keep-alive with a no-op run right before it, ROUNDS times. Prints a summary of
# medians: req/s, p50, p99 and the ratio to the no-op run measured next to it.
#
#   bench/run-api-bench.sh                 # 3 rounds x 15 s per scenario, ~5 min
#   DURATION=10 ROUNDS=3 SCENARIOS="purchase balance" bench/run-api-bench.sh
#
# Environment: BUILD_DIR (build-rel), DURATION (15), ROUNDS (3), CONNECTIONS (64), THREADS (2),
# MEMBERS (100000), SCENARIOS ("purchase balance hot_redeem"; add purchase_paced for latency at a
# fixed ~1,200 req/s, ENCORE_BENCH_DELAY_MS), PORT (random), KEEP (1 keeps the
# temp dir), METRICS (1: save the server's /metrics after every run as WORK/metrics-ROUND-SCENARIO.prom,
# the no-op run before it as metrics-ROUND-noop@SCENARIO.prom, counters since the server started;
# with KEEP=1 to read them), SKIP_BUILD (1: use the binaries as built), SERVER_BIN (the encore-server to run), SERVER_ARGS (extra encore-server flags), SERVER_ENV (e.g. "ENCORE_LOG_LEVEL=warn").
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-rel}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
MEMBERS=${MEMBERS:-100000}
SCENARIOS=${SCENARIOS:-"purchase balance hot_redeem"}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
SERVER_ARGS=${SERVER_ARGS:-}
SERVER_ENV=${SERVER_ENV:-}
SERVER_BIN=${SERVER_BIN:-$BUILD_DIR/api/encore-server}

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$BUILD_DIR" encore-server bench_seed encore-admin >/dev/null
fi

WORK=$(mktemp -d /tmp/encore-api-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${KEEP:-0} != 1 ]]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

echo "== seeding $MEMBERS members into $WORK/bench.db" >&2
KEY=$("$BUILD_DIR/bench/bench_seed" --db "$WORK/bench.db" --program "$ROOT/examples/program.json" \
  --members "$MEMBERS")
echo "$KEY" >"$WORK/key"
ADMIN_KEY=""
if [[ ${METRICS:-0} == 1 ]]; then
  ADMIN_KEY=$("$BUILD_DIR/tools/encore-admin" --db "$WORK/bench.db" keys create --role admin \
    --name bench-metrics --json | sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
  [[ -n $ADMIN_KEY ]] || { echo "could not create the metrics key" >&2; exit 1; }
fi

echo "== starting encore-server on 127.0.0.1:$PORT" >&2
# shellcheck disable=SC2086
env $SERVER_ENV "$SERVER_BIN" --db "$WORK/bench.db" \
  --program "$ROOT/examples/program.json" --listen "127.0.0.1:$PORT" $SERVER_ARGS \
  2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -skf "https://127.0.0.1:$PORT/v1/noop" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -skf "https://127.0.0.1:$PORT/v1/noop" >/dev/null

export ENCORE_BENCH_KEY=$KEY ENCORE_BENCH_MEMBERS=$MEMBERS ENCORE_BENCH_LUA=$ROOT/bench/wrk
URL="https://127.0.0.1:$PORT"
RESULTS=$WORK/results.tsv
: >"$RESULTS"

# wrk latency figures ("812.00us", "3.41ms", "1.02s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "nan" }'
}

run_one() {  # round scenario
  local round=$1 scenario=$2 out=$WORK/wrk-$1-$2.txt
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/$scenario.lua" \
    "$URL" -- "r$round-$scenario-$$" >"$out" 2>&1
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5} /Socket errors:/ {n = 0; for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n}' "$out" | awk '{s += $1} END {print s + 0}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$scenario" "$rps" "$p50" "$p99" "$errors" >>"$RESULTS"
  if [[ -n $ADMIN_KEY ]]; then
    curl -skf -H "Authorization: Bearer $ADMIN_KEY" "$URL/metrics" >"$WORK/metrics-$round-$scenario.prom"
  fi
  printf '  round %s %-11s %9s req/s  p50 %7s ms  p99 %7s ms  errors %s\n' "$round" "$scenario" \
    "$rps" "$p50" "$p99" "$errors" >&2
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round" >&2
  for scenario in $SCENARIOS; do
    run_one "$round" noop
    # /metrics counts from the server's start: the baseline's file is the one to subtract.
    if [[ -n $ADMIN_KEY ]]; then
      mv "$WORK/metrics-$round-noop.prom" "$WORK/metrics-$round-noop@$scenario.prom"
    fi
    # the no-op run right before a scenario is its baseline
    tail -1 "$RESULTS" | awk -v s="$scenario" 'BEGIN {OFS = "\t"} {$2 = "noop@" s; print}' \
      >>"$RESULTS"
    run_one "$round" "$scenario"
  done
done

echo
echo "machine: $(nproc) vCPU, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r)"
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, $ROUNDS rounds, medians"
printf '%-12s %10s %9s %9s %9s %7s\n' scenario "req/s" "p50 ms" "p99 ms" "vs noop" errors
awk -F'\t' '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { key = $1 SUBSEP $2; rps[key] = $3
    if ($2 ~ /^noop@/) next
    names[$2] = 1; r[$2] = r[$2] " " $3; p50[$2] = p50[$2] " " $4; p99[$2] = p99[$2] " " $5; err[$2] += $6 }
  END {
    for (k in rps) { split(k, parts, SUBSEP); if (parts[2] ~ /^noop@/) {
        s = substr(parts[2], 6); ratio[s] = ratio[s] " " (rps[parts[1] SUBSEP s] / rps[k]) } }
    order = "noop purchase balance hot_redeem purchase_paced"; n = split(order, o, " ")
    for (i = 1; i <= n; i++) { s = o[i]; if (!(s in names)) continue
      printf "%-12s %10.0f %9.2f %9.2f %9s %7d\n", s, median(r[s]), median(p50[s]), median(p99[s]),
        (s == "noop") ? "1.00" : sprintf("%.2f", median(ratio[s])), err[s] }
  }' "$RESULTS"
if [[ -n $(grep -c '"status":5' "$WORK/server.log" | grep -v '^0$' || true) ]]; then
  echo "server answered 5xx: see $WORK/server.log (KEEP=1)" >&2
fi
