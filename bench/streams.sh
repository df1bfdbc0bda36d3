#!/usr/bin/env bash
# Streaming benchmark (issue 3). Release build of kaiwa-paced-server, then N concurrent SSE
# streams and, separately, N WebSocket conversations (20-byte chunk every 30 ms for 10 s).
# Usage: bench/streams.sh [N ...]   (default: 1000 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import websockets" 2>/dev/null || pip install -q websockets
swift build -c release --product kaiwa-paced-server >/dev/null
bin=$(swift build -c release --show-bin-path)/kaiwa-paced-server
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 2000)
for n in "${counts[@]}"; do
    for mode in sse ws; do
        "$bin" 18200 333 30 memory >/dev/null 2>&1 &
        pid=$!
        until curl -sf http://127.0.0.1:18200/ping >/dev/null; do sleep 0.05; done
        python3 bench/streams.py "$mode" "$n" 18200 "$pid"
        kill $pid; wait $pid 2>/dev/null || true
    done
done
