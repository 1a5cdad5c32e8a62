#!/usr/bin/env bash
# The fault drill: `esia-sim serve` with every agency failing 30% of requests with a 5xx and
# holding 10% past the engine's timeout, cutting 5% of connections and garbling 5% of answers,
# and a one-minute outage of every agency half-way; `esia-sim load` against it for SECONDS, with
# the model's mix (`--mix model`: each journey a citizen doing what the simulator says; MIX=fixed
# for the smoke scenario's fixed shares). At the end the world's clock is moved 15 days (past every verification's 14-day
# deadline) and the drill checks: no verification pending, no effect queued, set aside or
# waiting for an agency's answer (each answered, or failed with a reason); resident memory
# within 50 MiB of the first minute's (or of the first sample, in a run shorter than two
# minutes); no panic in the log; the server still answering. Prints the figures; exits 1 when a
# check fails. The server is stopped by its pid.
#
#   [MIX=model|fixed] benches/drill.sh [ESIA_SIM_BINARY] [SECONDS]
#                                        (default: model, target/release/esia-sim, 600)
set -euo pipefail
bin=${1:-target/release/esia-sim}
secs=${2:-600}
mix=${MIX:-model}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
log="$work/serve.log"
# Citizens for every journey of the run (the smoke mix takes about 4 a journey at 100 a second).
population=$((secs * 450 + 20000))

# Served as the load runs expect it (--for-load: the smoke scenario's engine figures), with what
# the stores keep cut so that they reach their steady state within the first minute: sessions,
# expired registrations and answered agency requests forgotten after a minute instead of an
# hour or a day, the mocks' inboxes and requests bounded (a code is read within seconds, an
# answer polled within a minute). Past the first minute, what grows is the accounts (kept for
# good, as a registry does), and anything else would be a leak.
"$bin" serve --addr 127.0.0.1:0 --seed 1 --population "$population" --hash-profile load --log warn \
  --scenario "$here/scenarios/smoke.toml" --for-load \
  --set load.engine.session_ttl=1m --set load.engine.registration_grace=1m \
  --set load.engine.reply_tombstone_ttl=1m \
  --keep-messages 20000 --keep-requests 10000 --keep-answered 1m \
  --operator-token op --partner-token pa > "$work/serve.out" 2> "$log" &
pid=$!
trap 'kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true' EXIT
for _ in $(seq 1 300); do
  [[ -s "$work/serve.out" ]] && break
  sleep 0.1
done
base=$(head -1 "$work/serve.out" | sed 's/^listening on //')
echo "drill: $secs s of the $mix mix against $base (log $log)"

agencies=(sms mail pfr fms ca post banks centers)
# Sets every agency's profile: the wire's keys `$1` and the agency's `$2` (the banks keep
# theirs in each bank's table).
profiles() {
  local a body
  for a in "${agencies[@]}"; do
    if [[ $a == banks ]]; then
      body="{$1,\"sber\":{$2},\"tinkoff\":{$2},\"pochta\":{$2}}"
    else
      body="{$1,$2}"
    fi
    curl -sf -XPUT "$base/mocks/$a/admin/profile" -d "$body" > /dev/null
  done
}
profiles '"reset_rate":0.05,"malformed_rate":0.05' '"error_rate":0.3,"timeout_rate":0.1,"speedup":86400'

"$bin" load "$here/scenarios/smoke.toml" --host "$base" --mocks-url "$base" \
  --operator-token op --partner-token pa --set load.population="$population" --mix "$mix" --quiet \
  --out "$work/load" -- -t "${secs}s" \
  > "$work/load.out" 2>&1 &
load_pid=$!

rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
# The engine's stores, `name=entries ...`.
stores() {
  curl -sf "$base/metrics" | awk -F'[{}"= ]+' '/^esia_store_entries\{/ {printf "%s=%s ", $3, $4}'
}
first_kb=""
outage_at=$((secs / 2))
for ((t = 10; t <= secs; t += 10)); do
  sleep 10
  kb=$(rss)
  if [[ -z "$first_kb" && ($t -ge 60 || $secs -lt 120) ]]; then
    first_kb=$kb
    first_stores=$(stores)
  fi
  if ((t == outage_at / 10 * 10)); then
    for a in "${agencies[@]}"; do
      curl -sf -XPOST "$base/mocks/$a/admin/faults" -d '{"kind":"outage","duration":"1m"}' > /dev/null
    done
    echo "t=${t}s rss_kb=$kb (a one-minute outage of every agency starts)"
  else
    echo "t=${t}s rss_kb=$kb"
  fi
done
wait "$load_pid" || true
end_kb=$(rss)
end_stores=$(stores)

# Heal the agencies, let the last retries end, then pass every deadline.
profiles '"reset_rate":0,"malformed_rate":0' '"error_rate":0,"timeout_rate":0'
sleep 15
curl -sf -XPOST "$base/mocks/admin/clock/advance" -d '{"seconds":1296000}' > /dev/null
sleep 5
metrics=$(curl -sf "$base/metrics")
metric() { echo "$metrics" | awk -v m="$1" '$1 == m {print $2}'; }
pending=$(metric esia_verifications_pending)
queued=$(metric esia_effects_queued)
deferred=$(metric esia_effects_deferred)
waiting=$(metric esia_agency_requests_waiting)
failed=$(echo "$metrics" | awk '/^esia_effects_total\{.*outcome="failed"/ {s += $2} END {print s + 0}')
ok=$(echo "$metrics" | awk '/^esia_effects_total\{.*outcome="ok"/ {s += $2} END {print s + 0}')
panics=$(grep -c -i "panick" "$log" || true)
grep -E "journeys|requests|Thresholds" "$work/load.out" | head -20 || true
echo "effects performed: $ok ok, $failed failed with a reason"
echo "after 15 days: verifications pending $pending, effects queued $queued, set aside $deferred, waiting for an answer $waiting"
echo "rss: first minute $((first_kb / 1024)) MiB, end $((end_kb / 1024)) MiB, growth $(((end_kb - first_kb) / 1024)) MiB"
echo "stores at the first minute: $first_stores"
echo "stores at the end:          $end_stores"
echo "panics in the log: $panics"

status=0
check() { if ! eval "$1"; then echo "FAILED: $2"; status=1; fi; }
check '[[ "$pending" == 0 ]]' "verifications still pending after every deadline"
check '[[ "$queued" == 0 && "$deferred" == 0 && "$waiting" == 0 ]]' "effects still queued, set aside or waiting"
check '((end_kb - first_kb <= 50 * 1024))' "resident memory grew more than 50 MiB"
check '[[ "$panics" == 0 ]]' "a panic in the log"
check 'curl -sf "$base/healthz" > /dev/null' "the server no longer answers"
check 'kill -0 "$pid"' "the server died"
[[ $status == 0 ]] && echo "drill passed"
exit $status
