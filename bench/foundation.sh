#!/usr/bin/env bash
# Foundation benchmark (issue 2): /chat throughput and latency with the rules model and
# SQLite, idle memory, and time from process start to the first /ping 200.
# Release build on this machine; wrk from Debian. Usage: bench/foundation.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

swift build -c release --product kaiwa >/dev/null
bin=$(swift build -c release --show-bin-path)/kaiwa
work=$(mktemp -d)
port=18080

echo "== start-up: process start to first /ping 200 (best and median of 20 runs)"
python3 bench/startup.py "$bin" "$work" 20

echo "== idle resident memory"
KAIWA_SQLITE_PATH="$work/idle.sqlite" KAIWA_LOG_LEVEL=warning "$bin" serve --port $port >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -sf "http://127.0.0.1:$port/ping" >/dev/null; do sleep 0.05; done
sleep 2
grep VmRSS /proc/$pid/status

echo "== POST /chat, 64 connections, 2 threads, ${duration}s"
cpu_ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
before=$(cpu_ticks)
result=$(wrk -t2 -c64 -d"${duration}s" --latency -s bench/chat.lua "http://127.0.0.1:$port/chat")
after=$(cpu_ticks)
echo "$result"
requests=$(echo "$result" | awk '/requests in/ {print $1}')
ticks_per_second=$(getconf CLK_TCK)
echo "server CPU: $(( (after - before) * 1000000 / ticks_per_second / requests )) us per request," \
    "$(( (after - before) * 100 / ticks_per_second / duration ))% of one core on average"
echo "== memory after load"
grep -E "VmRSS|VmHWM" /proc/$pid/status
