#!/usr/bin/env bash
# `POST /api/v1/registrations` on a stand that holds ACCOUNTS accounts (`--preload-accounts`)
# and on an empty one, in interleaved rounds (the order swaps every round; wrk on core 0, the
# stand on core 1, DURATION each after 3 s of warm-up): requests a second, latency p50 and p99
# of each, and the ratio of the p99s. Then, on the full stand, the clock is advanced two hours
# so that every registration made by wrk expires at once, and the stand's
# `esia_housekeeping_lock_hold_seconds` histogram is read: holds of the registry's lock by
# housekeeping in total, over 0.5 ms, over 1 ms and over 5 ms, and from
# `esia_housekeeping_lock_hold_cpu_seconds` the holds whose CPU time was over 1 ms (a hold long
# in wall time and short in CPU time is the thread off its core while holding the lock; compare
# with benches/expiry.rs, which times the work itself). Stands are stopped by their pids.
#
#   benches/wrk/full_registry.sh [BIN_DIR] [ROUNDS] [DURATION] [ACCOUNTS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-target/release}
rounds=${2:-3}
dur=${3:-10s}
accounts=${4:-1000000}

ms() { # a wrk latency (850.00us, 1.23ms, 1.05s) in milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

start() { # port preload -> pid, once /healthz answers
  taskset -c 1 "$bin/esia-sim" serve --addr "127.0.0.1:$1" --log error \
    --operator-token t --partner-token t --preload-accounts "$2" > /dev/null &
  local pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$1/healthz" > /dev/null && break
    sleep 0.2
  done
  echo "$pid"
}

measure() { # port -> "rps p50_ms p99_ms"
  taskset -c 0 wrk -t1 -c64 -d3s -s "$here/registrations.lua" "http://127.0.0.1:$1" > /dev/null
  local out
  out=$(taskset -c 0 wrk -t1 -c64 -d"$dur" --latency -s "$here/registrations.lua" "http://127.0.0.1:$1")
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")" \
    "$(ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")"
}

holds() { # port -> "holds over_0.5ms over_1ms over_5ms" after every registration has expired
  curl -sf -X POST "http://127.0.0.1:$1/mocks/admin/clock/advance" \
    -H 'Content-Type: application/json' -d '{"seconds": 7200}' > /dev/null
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$1/metrics" | grep -q '^esia_store_entries{store="registrations"} 0$' && break
    sleep 0.2
  done
  curl -sf "http://127.0.0.1:$1/metrics" | awk '
    /^esia_housekeeping_lock_hold_seconds_bucket\{le="0.0005"\}/ {half = $2}
    /^esia_housekeeping_lock_hold_seconds_bucket\{le="0.001"\}/ {one = $2}
    /^esia_housekeeping_lock_hold_seconds_bucket\{le="0.005"\}/ {five = $2}
    /^esia_housekeeping_lock_hold_seconds_count/ {n = $2}
    /^esia_housekeeping_lock_hold_cpu_seconds_bucket\{le="0.001"\}/ {cpu_one = $2}
    /^esia_housekeeping_lock_hold_cpu_seconds_count/ {cpu_n = $2}
    END {print n, n - half, n - one, n - five, cpu_n - cpu_one}'
}

echo "round stand rps p50_ms p99_ms holds holds_over_0.5ms holds_over_1ms holds_over_5ms holds_over_1ms_cpu"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order="0 $accounts"; else order="$accounts 0"; fi
  for n in $order; do
    port=$((9130 + r * 2 + (n > 0)))
    pid=$(start "$port" "$n")
    fig=$(measure "$port")
    if ((n > 0)); then h=$(holds "$port"); else h="- - - - -"; fi
    kill "$pid"; wait "$pid" 2> /dev/null || true
    echo "$r $n $fig $h"
  done
done
