#!/usr/bin/env bash
# Sign-in overhead (issue 12): POST /chat (rules model, SQLite) at 64 connections on three
# servers side by side, in interleaved rounds: no authentication; a JWT (RS256, verified once
# and then found in the cache by the token's hash) with limits off; the same JWT with every
# limit counted in the store (limits set high enough never to refuse). Prints each round and
# the median ratio to "no authentication". Usage: bench/auth.sh [seconds per round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
rounds=${2:-3}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
python3 -c "import cryptography" 2>/dev/null || python3 -m pip install -q cryptography

swift build -c release --product kaiwa >/dev/null
bin=$(swift build -c release --show-bin-path)/kaiwa
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

python3 bench/oidc.py 18090 bench-client >"$work/oidc.out" 2>&1 &
oidc=$!
pids+=($oidc)
until [ "$(wc -l <"$work/oidc.out")" -ge 2 ]; do
    kill -0 $oidc 2>/dev/null || { echo "bench/oidc.py did not start (port 18090 taken?):"; cat "$work/oidc.out"; exit 1; }
    sleep 0.1
done
token=$(head -1 "$work/oidc.out")

start() {  # name port extra-env...
    local name=$1 port=$2
    shift 2
    env KAIWA_SQLITE_PATH="$work/$name.sqlite" KAIWA_LOG_LEVEL=warning "$@" "$bin" serve --port "$port" >"$work/$name.log" 2>&1 &
    local pid=$!
    pids+=($pid)
    until curl -sf "http://127.0.0.1:$port/ping" >/dev/null; do
        kill -0 $pid 2>/dev/null || { echo "the $name server did not start:"; cat "$work/$name.log"; exit 1; }
        sleep 0.05
    done
}
jwt=(KAIWA_AUTH_MODE=jwt KAIWA_AUTH_JWT_DISCOVERY_URL=http://127.0.0.1:18090/.well-known/openid-configuration
    KAIWA_AUTH_JWT_ALLOWED_CLIENTS=bench-client)
start none 18081
start jwt 18082 "${jwt[@]}" KAIWA_LIMITS_REQUESTS_PER_MINUTE=0 KAIWA_LIMITS_CONCURRENT_REPLIES=0 KAIWA_LIMITS_TOKENS_PER_DAY=0
start limits 18083 "${jwt[@]}" KAIWA_LIMITS_REQUESTS_PER_MINUTE=10000000 KAIWA_LIMITS_CONCURRENT_REPLIES=10000 \
    KAIWA_LIMITS_TOKENS_PER_DAY=1000000000000
curl -sf -H "Authorization: Bearer $token" http://127.0.0.1:18082/api/me >/dev/null || { echo "the JWT server refused the token"; cat "$work/jwt.log"; exit 1; }

run() {  # port [header]
    local extra=()
    [ $# -gt 1 ] && extra=(-H "$2")
    wrk -t2 -c64 -d"${duration}s" --latency -s bench/chat.lua "${extra[@]}" "http://127.0.0.1:$1/chat" |
        awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /^ +50%/ {p50=$2} /Non-2xx/ {bad=$NF} END {printf "%s %s %s %s\n", rps, p50, p99, bad+0}'
}
printf "%-6s %-28s %10s %9s %9s %8s\n" round server req/s p50 p99 non-2xx
: >"$work/results"
for round in $(seq 1 "$rounds"); do
    for server in none jwt limits; do
        case $server in
        none) line=$(run 18081) ;;
        jwt) line=$(run 18082 "Authorization: Bearer $token") ;;
        limits) line=$(run 18083 "Authorization: Bearer $token") ;;
        esac
        read -r rps p50 p99 bad <<<"$line"
        echo "$round $server $rps" >>"$work/results"
        printf "%-6s %-28s %10s %9s %9s %8s\n" "$round" "$server" "$rps" "$p50" "$p99" "$bad"
    done
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by_round = {}
for round_, server, rps in rows:
    by_round.setdefault(round_, {})[server] = float(rps)
for server, label in (("jwt", "JWT, limits off"), ("limits", "JWT, limits counted")):
    ratios = [r[server] / r["none"] for r in by_round.values()]
    print(f"{label}: {statistics.median(ratios) * 100:.1f}% of no authentication (per round: {', '.join(f'{x * 100:.0f}%' for x in ratios)})")
PY
