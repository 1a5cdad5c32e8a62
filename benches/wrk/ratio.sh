#!/usr/bin/env bash
# Interleaved rounds (the machine's speed drifts by ±10% over minutes; a ratio of two runs a
# few seconds apart drifts much less): each round measures the bare hyper server, then wiremock
# 0.6 serving the same SMS stub, then `POST /mocks/sms/messages`, then `POST
# /api/v1/registrations` on `esia-sim serve`, DURATION each after 3 s of warm-up, wrk on core 0
# and the server on core 1, and prints the requests per second and the ratios to bare (and the
# SMS mock's to wiremock). Servers are stopped by their pids.
#
#   [SMS_SCRIPT=sms_new_numbers.lua] benches/wrk/ratio.sh [BIN_DIR] [ROUNDS] [DURATION]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-target/release}
rounds=${2:-5}
dur=${3:-10s}
ex=$bin/examples
[ -x "$ex/bare_json" ] || ex=$bin
sms=$here/${SMS_SCRIPT:-sms_static.lua}

rps() { # pid url script
  sleep 1
  taskset -c 0 wrk -t1 -c64 -d3s -s "$3" "$2" > /dev/null
  taskset -c 0 wrk -t1 -c64 -d"$dur" -s "$3" "$2" | awk '/Requests\/sec/ {print $2}'
  kill "$1"; wait "$1" 2> /dev/null || true
}

ratio() { echo "scale=3; $1 / $2" | bc; }

echo "round bare_rps wiremock_rps sms_rps registrations_rps wiremock/bare sms/bare registrations/bare sms/wiremock"
for ((r = 1; r <= rounds; r++)); do
  taskset -c 1 "$ex/bare_json" 127.0.0.1:9121 > /dev/null &
  bare=$(rps $! http://127.0.0.1:9121 "$sms")
  taskset -c 1 "$ex/wiremock_sms" 127.0.0.1:9124 > /dev/null &
  wm=$(rps $! http://127.0.0.1:9124 "$sms")
  taskset -c 1 "$bin/esia-sim" serve --addr 127.0.0.1:9122 --log error \
    --operator-token t --partner-token t > /dev/null &
  smsr=$(rps $! http://127.0.0.1:9122 "$sms")
  taskset -c 1 "$bin/esia-sim" serve --addr 127.0.0.1:9123 --log error \
    --operator-token t --partner-token t > /dev/null &
  reg=$(rps $! http://127.0.0.1:9123 "$here/registrations.lua")
  echo "$r $bare $wm $smsr $reg $(ratio "$wm" "$bare") $(ratio "$smsr" "$bare") $(ratio "$reg" "$bare") $(ratio "$smsr" "$wm")"
done
