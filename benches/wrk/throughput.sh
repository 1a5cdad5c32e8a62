#!/usr/bin/env bash
# Throughput of the SMS mock and the engine against a bare hyper server and wiremock, with wrk on
# core 0 and the server on core 1 (taskset), loopback only. Each server: started pinned, 5 s of
# warm-up, then DURATION of measurement; the server's CPU use over the measurement is printed
# (100% = one core saturated). Every server is stopped by its pid.
#
#   [SMS_SCRIPT=sms_static.lua] benches/wrk/throughput.sh [BIN_DIR] [DURATION]
#
# BIN_DIR holds release builds of esia-sim, bare_json and wiremock_sms
# (cargo build --release --bin esia-sim --example bare_json --example wiremock_sms; default
# target/release with examples/ under it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-target/release}
dur=${2:-20s}
ex=$bin/examples
[ -x "$ex/bare_json" ] || ex=$bin
conns=64
# SMS_SCRIPT=sms_static.lua sends one fixed body instead of a new number each time.
sms=$here/${SMS_SCRIPT:-sms_new_numbers.lua}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Busy ticks of the whole machine (all cores): user + nice + system + irq + softirq + steal.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

measure() { # name pid url script
  local name=$1 pid=$2 url=$3 script=$4
  sleep 1
  taskset -c 0 wrk -t1 -c$conns -d5s -s "$script" "$url" > /dev/null
  local t0 c0 t1 c1 b0 b1
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid"); b0=$(busy_ticks)
  /usr/bin/time -f '%U %S' -o /tmp/wrk-cpu.txt \
    taskset -c 0 wrk -t1 -c$conns -d"$dur" --latency -s "$script" "$url" > "/tmp/wrk-$name.txt"
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); b1=$(busy_ticks)
  local rps non2xx p50 p99 cpu wrk_cpu others
  rps=$(awk '/Requests\/sec/ {print $2}' "/tmp/wrk-$name.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "/tmp/wrk-$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "/tmp/wrk-$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "/tmp/wrk-$name.txt")
  cpu=$(echo "($c1 - $c0) / $(getconf CLK_TCK) / ($t1 - $t0) * 100" | bc -l)
  wrk_cpu=$(awk -v d="$(echo "$t1 - $t0" | bc -l)" '{print ($1 + $2) / d * 100}' /tmp/wrk-cpu.txt)
  # What else ran meanwhile (other processes, the kernel's work for neither): a clean run is ~0.
  others=$(echo "($b1 - $b0) / $(getconf CLK_TCK) / ($t1 - $t0) * 100 - $cpu - $wrk_cpu" | bc -l)
  printf '%-22s %9s req/s  p50 %8s  p99 %8s  non-2xx %7s  server %5.1f%%  wrk %5.1f%%  others %5.1f%%  RSS %s kB\n' \
    "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "$cpu" "$wrk_cpu" "$others" "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  kill "$pid"; wait "$pid" 2> /dev/null || true
}

taskset -c 1 "$ex/bare_json" 127.0.0.1:9101 > /dev/null &
measure bare_hyper $! http://127.0.0.1:9101 "$sms"

taskset -c 1 "$ex/wiremock_sms" 127.0.0.1:9102 > /dev/null &
measure wiremock_sms_stub $! http://127.0.0.1:9102 "$sms"

taskset -c 1 "$bin/esia-sim" serve --addr 127.0.0.1:9103 --log error \
  --operator-token t --partner-token t > /dev/null &
measure esia_sms_messages $! http://127.0.0.1:9103 "$sms"

taskset -c 1 "$bin/esia-sim" serve --addr 127.0.0.1:9104 --log error \
  --operator-token t --partner-token t > /dev/null &
measure esia_registrations $! http://127.0.0.1:9104 "$here/registrations.lua"
