#!/usr/bin/env bash
# What this machine allows before Kaiwa does any work of its own: the floors under the speed
# and memory bars of issues 2 and 3.
#  1. The release binary loading its libraries and printing --help: time and peak memory.
#  2. The HTTP stack serving a small file from memory (GET /ui/config.js) at 64 connections,
#     the cheapest request the server has: no JSON, no store, no reply.
#  3. Loopback TCP moving the streaming bar's chunks with no server at all
#     (bench/floor/loopback_floor.c): N connections, an SSE delta frame each every 30 ms.
# Usage: bench/floor.sh [seconds] [connections ...]   (default: 10 s; 2000 and 9000 connections)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
shift || true
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product kaiwa >/dev/null
bin=$(swift build -c release --show-bin-path)/kaiwa

echo "== kaiwa --help: wall time and peak resident memory (median of 20)"
python3 - "$bin" <<'PY'
import resource, statistics, subprocess, sys, time
times = []
for _ in range(20):
    start = time.perf_counter()
    subprocess.run([sys.argv[1], "--help"], stdout=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"median {statistics.median(times):.1f} ms, best {min(times):.1f} ms; peak RSS {peak / 1024:.1f} MB")
PY

echo "== GET /ui/config.js (a file served from memory), 64 connections, ${duration}s"
port=18090
KAIWA_STORE=memory KAIWA_LOG_LEVEL=warning "$bin" serve --port $port >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/ping" >/dev/null; do sleep 0.05; done
wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$port/ui/config.js" | grep -E "Requests/sec|50%|99%"
kill $pid

echo "== loopback TCP alone: an SSE delta frame per connection every 30 ms"
cc -O2 -pthread bench/floor/loopback_floor.c -o /tmp/kaiwa-loopback-floor
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(2000 9000)
for n in "${counts[@]}"; do
    /tmp/kaiwa-loopback-floor "$n" 30 "$duration"
done
