#!/usr/bin/env bash
# User-space instructions a request (valgrind's callgrind), the figure that moves least from one
# machine or minute to the next: the server runs under callgrind with instrumentation off; after
# 3 s of warm-up under wrk it is switched on for 5 s of wrk, dumped, and the program's total is
# divided by the requests wrk counted. Kernel time (the system calls) is not counted, and the
# count moves by a few percent with how many requests each wake-up finds ready.
#
# CONNECTIONS (16 by default, as in the figures before 2026-12-08) sets wrk's connections. For
# registrations use 64, as `ratio.sh` does: the SMS that gather while a batch is out make the
# next batch, so the batches' size, and a registration's share of one, follows it (about 10
# SMS a batch at 16 under callgrind, about 58 at 64; 48-54 natively at 64).
#
#   [CONNECTIONS=64] benches/wrk/instructions.sh NAME URL SCRIPT SERVER-COMMAND...
#   benches/wrk/instructions.sh sms http://127.0.0.1:9122 benches/wrk/sms_static.lua \
#     target/release/esia-sim serve --addr 127.0.0.1:9122 --log error
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,15p' "$0"; exit 2; }
name=$1; url=$2; script=$3; shift 3
out=$(mktemp -d)
taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" --instr-atstart=no \
  "$@" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 60); do curl -s -o /dev/null "$url/" && break; sleep 0.5; done
conns=${CONNECTIONS:-16}
taskset -c 0 wrk -t1 -c"$conns" -d3s -s "$script" "$url" > /dev/null
callgrind_control -i on "$pid" > /dev/null
report=$(taskset -c 0 wrk -t1 -c"$conns" -d5s -s "$script" "$url")
callgrind_control -i off "$pid" > /dev/null
callgrind_control -d "$pid" > /dev/null
sleep 1
kill "$pid"; wait "$pid" 2> /dev/null || true
n=$(echo "$report" | awk '/requests in/ {print $1}')
ir=$(callgrind_annotate "$out"/cg.out.1 2> /dev/null | awk '/PROGRAM TOTALS/ {gsub(",", ""); print $1}')
echo "$name requests=$n instructions=$ir per_request=$((ir / n)) profile=$out/cg.out.1"
