#!/usr/bin/env bash
# Memory under sustained load: five minutes of full-speed POST /mocks/sms/messages, each to a new
# phone number, against `esia-sim serve` (server on core 1, wrk on core 0, loopback). Prints the
# server's resident memory every 10 s; the figure is the end's RSS minus the RSS at 10 s. The
# server is stopped by its pid.
#
#   benches/wrk/memory.sh [ESIA_SIM_BINARY] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-target/release/esia-sim}
secs=${2:-300}
taskset -c 1 "$bin" serve --addr 127.0.0.1:9105 --log error \
  --operator-token t --partner-token t > /dev/null &
pid=$!
sleep 1
taskset -c 0 wrk -t1 -c64 -d"${secs}s" -s "$here/sms_new_numbers.lua" http://127.0.0.1:9105 \
  > /tmp/wrk-memory.txt &
wrk_pid=$!
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
for ((t = 10; t <= secs; t += 10)); do
  sleep 10
  echo "t=${t}s rss_kb=$(rss)"
done
wait "$wrk_pid" || true
echo "end rss_kb=$(rss)"
curl -s http://127.0.0.1:9105/mocks/sms/inbox/79000000001 > /dev/null || true
kill "$pid"; wait "$pid" 2> /dev/null || true
grep -E "requests in|Requests/sec|Non-2xx" /tmp/wrk-memory.txt
