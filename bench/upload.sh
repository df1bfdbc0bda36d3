#!/usr/bin/env bash
# Upload memory benchmark (issue 15): a 5 MB image is streamed to the store a piece at a time,
# so the server's peak resident memory while taking it grows by less than one copy of the file.
# For each of N uploads it resets the server's peak (`echo 5 > /proc/PID/clear_refs`), sends the
# file over one connection in 64 KB writes, and reads VmHWM − VmRSS before; the first upload
# goes to a server that has taken none. Run with STORE=memory for the floor of "one copy": the
# in-memory store keeps each file whole in memory by design.
# UPLOAD_MB=20 uploads a larger file (the limit is raised to match): growth that does not follow
# the file's size is the server's fixed cost (SQLite's page cache, buffers), not the file.
# Usage: bench/upload.sh [N] [STORE]   (default 10, sqlite). KAIWA_BIN skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
store=${2:-sqlite}
if [ -n "${KAIWA_BIN:-}" ]; then
    kaiwa=$(realpath "$KAIWA_BIN")
else
    swift build -c release --product kaiwa >/dev/null
    kaiwa=$(swift build -c release --show-bin-path)/kaiwa
fi
work=$(mktemp -d /tmp/kaiwa-upload.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KAIWA_ATTACHMENTS_MAX_BYTES=$((${UPLOAD_MB:-5} * 1048576)) KAIWA_STORE=$store KAIWA_SQLITE_PATH="$work/kaiwa.sqlite" KAIWA_PORT=$port KAIWA_LOG_LEVEL=warning "$kaiwa" serve >/dev/null 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/ping" >/dev/null; do sleep 0.05; done
echo "== $rounds uploads of a ${UPLOAD_MB:-5} MB PNG to $store, one at a time ($(basename "$kaiwa"), pid $pid)"
python3 - "$port" "$pid" "$rounds" <<'PY'
import http.client, json, os, statistics, sys
port, pid, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
size = int(os.environ.get("UPLOAD_MB", "5")) * 1024 * 1024
body = b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)

def status(field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
def reset_peak():
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")

def upload(link):
    link.putrequest("POST", "/api/attachments?name=big.png")
    link.putheader("Content-Length", str(size))
    link.putheader("Content-Type", "application/octet-stream")
    link.endheaders()
    for start in range(0, size, 65536):
        link.send(body[start:start + 65536])
    response = link.getresponse()
    answer = json.loads(response.read())
    assert response.status == 201, answer
    return answer["id"]

def download(link, id):
    link.request("GET", f"/api/attachments/{id}")
    response = link.getresponse()
    data = response.read()
    assert response.status == 200 and data == body

link = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
growth = []
ids = []
for _ in range(rounds):
    before = status("VmRSS"); reset_peak()
    ids.append(upload(link))
    growth.append(status("VmHWM") - before)
download(link, ids[-1])
mb = lambda v: f"{v / 1048576:.2f} MB"
print(f"file {mb(size)}; server RSS at the end {mb(status('VmRSS'))}")
print(f"first upload (fresh server) peak RSS growth {mb(growth[0])} ({growth[0] / size:.2f} of the file)")
print(f"all {rounds} uploads: median {mb(statistics.median(growth))}, max {mb(max(growth))} ({max(growth) / size:.2f} of the file)")
PY
