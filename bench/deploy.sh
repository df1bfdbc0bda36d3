#!/usr/bin/env bash
# Deploy benchmark (issue 14), on the release artifact (scripts/build-release):
#   1. the artifact's size;
#   2. process start to the first /ping 200 on Lambda-like settings (AWS_LAMBDA_FUNCTION_NAME,
#      DynamoDB on moto_server, JSON logs), with the page cache dropped before each run where
#      the machine allows it, against the same start on a laptop's settings (SQLite), 20 runs;
#   3. what /metrics and tracing cost: /chat (rules model, SQLite) at 64 connections on four
#      servers side by side, plain, with metrics on, with metrics and tracing on (every
#      request traced, spans exported over OTLP/HTTP to an nginx that answers 200), and the
#      same with one request in ten sampled, in interleaved rounds; prints each round's
#      requests a second and the median ratios.
# Usage: bench/deploy.sh [ROUNDS] [SECONDS]   (default 3 rounds of 10 s)
# KAIWA_RELEASE_ROOT=folder skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light; }
command -v moto_server >/dev/null || python3 -m pip install -q 'moto[server]'
root=${KAIWA_RELEASE_ROOT:-.build/release-root}
[ -n "${KAIWA_RELEASE_ROOT:-}" ] || scripts/build-release "$root" >/dev/null
bin=$(realpath "$root/app/kaiwa")
work=$(mktemp -d /tmp/kaiwa-deploy-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() { until curl -sf "http://127.0.0.1:$1/ping" >/dev/null; do sleep 0.02; done; }

echo "== release artifact: $(du -h "$bin" | cut -f1) ($(stat -c %s "$bin") bytes), stripped; shared libraries: $(tr '\n' ' ' < "$root/app/shared-libraries")"

moto_port=$(free_port)
moto_server -p "$moto_port" >/dev/null 2>&1 &
pids+=($!)
until curl -s "http://127.0.0.1:$moto_port/" >/dev/null; do sleep 0.1; done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=ap-northeast-1
AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$moto_port" "$bin" store create-tables >/dev/null

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; }
if drop_caches; then cold="page cache dropped before each run"; else cold="page cache NOT dropped (not allowed here)"; fi
report() {  # $1: label; the rest: 20 times in microseconds
    local label=$1; shift
    printf '%s\n' "$@" | sort -n | awk -v label="$label" '{ t[NR] = $1 } END {
        printf "  %-44s median %6.1f ms, best %6.1f ms, worst %6.1f ms\n", label, (t[10] + t[11]) / 2000, t[1] / 1000, t[NR] / 1000 }'
}
startup() {  # $1: label; the rest: environment assignments
    local label=$1; shift
    local times=()
    for run in $(seq 20); do
        drop_caches || true
        local port
        port=$(free_port)
        local start end
        start=$(date +%s%N)
        env "$@" KAIWA_PORT="$port" KAIWA_SQLITE_PATH="$work/start-$run.sqlite" KAIWA_LOG_LEVEL=warning "$bin" serve >/dev/null 2>&1 &
        local pid=$!
        until curl -sf "http://127.0.0.1:$port/ping" >/dev/null 2>&1; do sleep 0.001; done
        end=$(date +%s%N)
        kill "$pid"; wait "$pid" 2>/dev/null || true
        times+=($(( (end - start) / 1000 )))
    done
    report "$label" "${times[@]}"
}
echo "== start to first /ping 200, 20 runs each ($cold; curl polls every millisecond)"
startup "Lambda-like (DynamoDB on moto, JSON logs)" AWS_LAMBDA_FUNCTION_NAME=kaiwa-bench KAIWA_STORE=dynamodb \
    AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$moto_port"
startup "laptop (SQLite)"
floor() {  # the binary loaded and run to its end with no server: `kaiwa --help`
    local times=()
    for _ in $(seq 20); do
        drop_caches || true
        local start end
        start=$(date +%s%N)
        "$bin" --help >/dev/null
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    report "floor: kaiwa --help (load, link, exit)" "${times[@]}"
}
floor

echo "== /chat at 64 connections: plain, metrics on, metrics and tracing on; $rounds interleaved rounds of ${seconds}s"
sink_port=$(free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log /dev/null;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx-body;
    server { listen 127.0.0.1:$sink_port; location / { client_max_body_size 64m; return 200; } }
}
CONF
nginx -c "$work/nginx.conf"
declare -A ports
variants="plain metrics traced sampled"
for variant in $variants; do
    ports[$variant]=$(free_port)
    extra=()
    case $variant in
    metrics) extra=(KAIWA_METRICS_ENABLED=true) ;;
    traced) extra=(KAIWA_METRICS_ENABLED=true KAIWA_OTEL_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_BSP_SCHEDULE_DELAY=200 OTEL_BSP_MAX_QUEUE_SIZE=65536 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096) ;;
    # One request in ten traced (OpenTelemetry's standard sampler settings).
    sampled) extra=(KAIWA_METRICS_ENABLED=true KAIWA_OTEL_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_BSP_SCHEDULE_DELAY=200 OTEL_BSP_MAX_QUEUE_SIZE=65536 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096 OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1) ;;
    esac
    env "${extra[@]}" KAIWA_PORT="${ports[$variant]}" KAIWA_SQLITE_PATH="$work/$variant.sqlite" KAIWA_LOG_LEVEL=warning "$bin" serve >/dev/null 2>&1 &
    pids+=($!)
    wait_ready "${ports[$variant]}"
done
declare -A results
for round in $(seq "$rounds"); do
    line="  round $round:"
    for variant in $variants; do
        rate=$(wrk -t2 -c64 -d"${seconds}s" -s bench/chat.lua "http://127.0.0.1:${ports[$variant]}/chat" | awk '/Requests\/sec/ {print $2}')
        results[$variant]+="$rate "
        line+=" $variant $rate req/s;"
    done
    echo "$line"
done
python3 - "${results[plain]}" "${results[metrics]}" "${results[traced]}" "${results[sampled]}" <<'PY'
import statistics, sys
plain, metrics, traced, sampled = ([float(x) for x in arg.split()] for arg in sys.argv[1:])
for name, values in (("metrics on", metrics), ("metrics and tracing on, every request", traced), ("metrics and tracing on, 1 in 10 sampled", sampled)):
    ratios = [v / p for v, p in zip(values, plain)]
    print(f"  {name}: median {statistics.median(values):.0f} req/s against {statistics.median(plain):.0f} plain; "
          f"per-round ratio median {statistics.median(ratios):.3f} (cost {100 * (1 - statistics.median(ratios)):.1f}%, bar 5%)")
PY
curl -s "http://127.0.0.1:${ports[metrics]}/metrics" | grep -c '^kaiwa_' | xargs echo "  (metrics server exposes this many kaiwa_ samples)"
