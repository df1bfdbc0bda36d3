#!/usr/bin/env bash
# Soak test: Kaiwa (`kaiwa serve`, the offline `rules` model, a SQLite store in a temporary
# folder, log level warning) on a free loopback port, and bench/soak.py driving a steady mix at
# a fixed rate (RATE slots a second, default 50: about as many requests) for N minutes: POST
# /chat, POST /chat/stream read to the end, resumes, stops, WebSocket conversations (messages,
# stops, a bad frame), GET /api/sessions and /api/sessions/{id}, and bad requests whose 4xx are
# expected. The server's RSS is sampled every 10 s. Prints requests by kind and status, the RSS
# samples, the RSS after warm-up (1 minute, or 10% of a shorter run) against the end, and the
# counts of 5xx and unexpected errors; then what the server logged at warning or above.
# PASS (exit 0) when the end RSS is at most 10% over the warm-up RSS, there was no 5xx and
# nothing but the bad requests' own 4xx; exit 1 otherwise.
# KAIWA_BIN=path (absolute, or from the repository root) skips the release build.
# Usage: bench/soak.sh [--minutes N]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10
while [ $# -gt 0 ]; do
    case $1 in
    --minutes) minutes=${2:?--minutes needs a number}; shift 2 ;;
    --minutes=*) minutes=${1#--minutes=}; shift ;;
    *) echo "usage: bench/soak.sh [--minutes N]"; exit 2 ;;
    esac
done
python3 -c "import websockets.asyncio.client" 2>/dev/null || pip install -q 'websockets>=13'
if [ -n "${KAIWA_BIN:-}" ]; then
    kaiwa=$KAIWA_BIN
else
    swift build -c release --product kaiwa >/dev/null
    kaiwa=$(swift build -c release --show-bin-path)/kaiwa
fi

work=$(mktemp -d /tmp/kaiwa-soak.XXXXXX)
pid=""
cleanup() {  # TERM the server, give it 15 s (it drains replies), then KILL it
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Only this run's settings: none of the caller's KAIWA_* (a catalogue, sign-in, a config file).
env $(env | sed -n 's/^\(KAIWA_[A-Z0-9_]*\)=.*/-u \1/p') \
    KAIWA_HOST=127.0.0.1 KAIWA_PORT="$port" KAIWA_MODEL=rules KAIWA_STORE=sqlite KAIWA_SQLITE_PATH="$work/kaiwa.sqlite" \
    KAIWA_LOG_LEVEL=warning "$kaiwa" serve >"$work/kaiwa.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
    curl -sf -o /dev/null -m 1 "http://127.0.0.1:$port/health" && break
    kill -0 "$pid" 2>/dev/null || { echo "kaiwa did not start:"; cat "$work/kaiwa.log"; exit 1; }
    sleep 0.1
done
kind=release
case $kaiwa in *"/debug/"*) kind="DEBUG build" ;; esac
echo "== kaiwa ($kaiwa, $kind) on 127.0.0.1:$port, pid $pid; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
python3 bench/soak.py --port "$port" --pid "$pid" --minutes "$minutes" --rate "${RATE:-50}" || status=$?

echo
if kill -0 "$pid" 2>/dev/null; then
    curl -sf -o /dev/null -m 5 "http://127.0.0.1:$port/health" || { echo "kaiwa no longer answers /health"; status=1; }
else
    echo "kaiwa exited during the run"
    status=1
fi
echo "== SQLite: $(du -ch "$work"/kaiwa.sqlite* | tail -1 | cut -f1); the server logged $(wc -l <"$work/kaiwa.log") lines at warning or above"
grep -v '^$' "$work/kaiwa.log" | sed -E 's/^[0-9]{4}-[0-9-]+T[0-9:.+Z-]+ //; s/[0-9a-f]{8}-[0-9a-f-]{27}/<id>/g' | sort | uniq -c | sort -rn | head -10 || true
exit $status
