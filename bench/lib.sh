# Shared by the bench scripts (sourced): the seeded database kept between calls, waiting for the
# server, stopping it. Expects ROOT; BUILD_DIR, MEMBERS, PORT and WORK default as below.

BUILD_DIR=${BUILD_DIR:-$ROOT/build-rel}
MEMBERS=${MEMBERS:-100000}
PORT=${PORT:-28443}
WORK=${WORK:-/tmp/encore-alternate}

# Seeds WORK/seed.db with MEMBERS members once (its pos key in WORK/key) and exports what the wrk
# scripts read.
ensure_seed() {
  mkdir -p "$WORK"
  if [[ ! -f $WORK/seed.db ]]; then
    "$BUILD_DIR/bench/bench_seed" --db "$WORK/seed.db" --program "$ROOT/examples/program.json" \
      --members "$MEMBERS" >"$WORK/key"
  fi
  export ENCORE_BENCH_KEY
  ENCORE_BENCH_KEY=$(cat "$WORK/key")
  export ENCORE_BENCH_MEMBERS=$MEMBERS ENCORE_BENCH_LUA=$ROOT/bench/wrk
}

# Up to 10 s for the server on PORT to answer the no-op route.
wait_ready() {
  for _ in $(seq 100); do
    curl -skf "https://127.0.0.1:$PORT/v1/noop" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Splits "LABEL=BINARY[,SEED_DB]" (a binary to compare, optionally with its own seeded database)
# into LABEL, BINARY and SEED (default WORK/seed.db).
parse_pair() {
  LABEL=${1%%=*}
  BINARY=${1#*=}
  SEED=$WORK/seed.db
  if [[ $BINARY == *,* ]]; then
    SEED=${BINARY#*,}
    BINARY=${BINARY%%,*}
  fi
}

# Starts BINARY on a fresh copy of SEED (log in WORK/server-LABEL.log), waits until it answers,
# then SETTLE seconds more (cache warm-up).
start_fresh_server() {
  local binary=$1 seed=$2 label=$3 settle=$4
  rm -f "$WORK"/run.db*
  cp "$seed" "$WORK/run.db"
  "$binary" --db "$WORK/run.db" --program "$ROOT/examples/program.json" \
    --listen "127.0.0.1:$PORT" 2>"$WORK/server-$label.log" &
  SERVER_PID=$!
  wait_ready
  sleep "$settle"
}

SERVER_PID=""
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
