#!/usr/bin/env bash
# Gateway benchmark (issue 13): the same POST /v1/chat/completions load, plain and streamed,
# through four targets, in interleaved rounds:
#   nginx      answering a fixed completion itself: the ceiling, and the upstream of the others;
#   litellm-1  LiteLLM's proxy (litellm[proxy] 1.106.2, uvicorn) with 1 worker, in front of it;
#   litellm-2  the same with 2 workers;
#   kaiwa      Kaiwa (release build, memory store, log level warning) in front of it;
#   hummingbird  the floor of Kaiwa's own stack: a Hummingbird server (kaiwa-fake-openai, release
#              build) answering the same completion itself, with no upstream and no other work;
#   proxy      the floor of any gateway on that stack: the same server passing each request's
#              bytes to nginx with AsyncHTTPClient and the answer back (no parsing, no other work).
# nginx listens on two loopback ports: one always answers a chat.completion, the other always a
# chat.completion.chunk SSE stream with usage and `data: [DONE]`. Each gateway has two models,
# `fake` (upstream: the JSON port) and `fake-stream` (the SSE port); bench/gateway.lua asks for
# one or the other, and bench/gateway.py checks every target's answers before the load.
# Every round runs, on every target in turn (the order rotates each round): requests/s at 64
# connections (wrk -t2), plain then streamed, with the target's resident memory sampled every
# second (VmRSS summed over its process tree: LiteLLM's supervisor and workers, nginx's master
# and worker; the peak counts); then p50/p99 latency at 8 connections (wrk -t1 --latency; a
# streamed request's latency runs to its last byte). Prints each run, then Markdown tables of the
# medians over rounds and Kaiwa's ratios against the issue's targets (for the closing note).
# wrk, nginx (1 worker process) and the gateway under test share this machine's cores.
# LiteLLM runs with its defaults (uvicorn with uvloop, its router, cost tracking, no database)
# and a master key, which 1.106.2 refuses to start without; every request carries it (nginx and
# Kaiwa, whose authentication is off here, ignore it). Two things that cost time without serving
# are off: LITELLM_LOG=ERROR, which also turns off uvicorn's access log (a line per request; Kaiwa
# at log level warning logs nothing per request), and LITELLM_LOCAL_MODEL_COST_MAP=True (no fetch
# of the price list from GitHub at start-up).
# Installs wrk and nginx (Debian) and litellm[proxy]==1.106.2 into a virtual environment
# (.build/bench-venv, or LITELLM_VENV). KAIWA_BIN=path (absolute, or from the repository root)
# skips the release build; KAIWA=0 leaves Kaiwa out (and the floor); FLOOR_BIN=path skips the
# floor's build; WARMUP=seconds (default 10) is the warm-up
# load per gateway and mode.
# Usage: bench/gateway.sh [seconds per run] [rounds]   (default: 10 s, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
rounds=${2:-3}
warmup=${WARMUP:-10}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

litellm_version=1.106.2
venv=${LITELLM_VENV:-.build/bench-venv}
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$litellm_version')" 2>/dev/null; then
    echo "== installing litellm[proxy]==$litellm_version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "litellm[proxy]==$litellm_version"
fi

kaiwa="" floor=""
if [ "${KAIWA:-1}" != 0 ]; then
    if [ -n "${KAIWA_BIN:-}" ]; then
        kaiwa=$KAIWA_BIN
    else
        swift build -c release --product kaiwa >/dev/null
        kaiwa=$(swift build -c release --show-bin-path)/kaiwa
    fi
    if [ -n "${FLOOR_BIN:-}" ]; then
        floor=$FLOOR_BIN
    else
        swift build -c release --product kaiwa-fake-openai >/dev/null
        floor=$(swift build -c release --show-bin-path)/kaiwa-fake-openai
    fi
fi

port_json=18301 port_sse=18302 port_litellm1=18311 port_litellm2=18312 port_kaiwa=18321 port_floor=18331 port_proxy=18332
for port in $port_json $port_sse $port_litellm1 $port_litellm2 $port_kaiwa $port_floor $port_proxy; do
    if (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is taken"; exit 1; fi
done

work=$(mktemp -d /tmp/kaiwa-gateway-bench.XXXXXX)
pids=()
descendants() {  # pid: its children, their children, ...
    local child
    for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done
}
cleanup() {  # TERM what we started, give it 10 s to stop (with its workers), then KILL what is left
    local all=() pid
    for pid in "${pids[@]}"; do all+=("$pid" $(descendants "$pid")); done
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "${all[@]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "${all[@]}" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The upstream: a fixed completion, as JSON on one port and as an SSE stream on the other.
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    # Gateways keep their upstream connections open, as they would to a provider.
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$port_json;
        location = /v1/chat/completions {
            default_type application/json;
            return 200 '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"fake","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fixed upstream."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}';
        }
    }
    server {
        listen 127.0.0.1:$port_sse;
        location = /v1/chat/completions {
            default_type text/event-stream;
            return 200 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\ndata: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n\ndata: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[{"index":0,"delta":{"content":" from the fixed upstream."},"finish_reason":null}]}\n\ndata: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}\n\ndata: [DONE]\n\n';
        }
    }
}
NGINX
"$nginx" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" & pids+=($!)
nginx_pid=$!

cat >"$work/litellm.yaml" <<YAML
model_list:
  - model_name: fake
    litellm_params: {model: openai/fake, api_base: "http://127.0.0.1:$port_json/v1", api_key: fake-key}
  - model_name: fake-stream
    litellm_params: {model: openai/fake, api_base: "http://127.0.0.1:$port_sse/v1", api_key: fake-key}
YAML
key=sk-$(python3 -c 'import secrets; print(secrets.token_hex(32))')
start_litellm() {  # workers port
    LITELLM_MASTER_KEY=$key LITELLM_LOG=ERROR LITELLM_LOCAL_MODEL_COST_MAP=True "$venv/bin/litellm" --config "$work/litellm.yaml" \
        --host 127.0.0.1 --port "$2" --num_workers "$1" >"$work/litellm-$1.log" 2>&1 &
    pids+=($!)
}
start_litellm 1 $port_litellm1
litellm1_pid=$!
start_litellm 2 $port_litellm2
litellm2_pid=$!

targets=(nginx litellm-1 litellm-2)
declare -A root=([nginx]=$nginx_pid [litellm-1]=$litellm1_pid [litellm-2]=$litellm2_pid)
if [ -n "$kaiwa" ]; then
    cat >"$work/models.json" <<JSON
{"default": "fake", "models": [
  {"name": "fake", "provider": "openai", "model": "fake", "base_url": "http://127.0.0.1:$port_json/v1"},
  {"name": "fake-stream", "provider": "openai", "model": "fake", "base_url": "http://127.0.0.1:$port_sse/v1"}
]}
JSON
    KAIWA_MODELS_PATH="$work/models.json" KAIWA_STORE=memory KAIWA_LOG_LEVEL=warning \
        "$kaiwa" serve --port $port_kaiwa >"$work/kaiwa.log" 2>&1 &
    pids+=($!)
    root[kaiwa]=$!
    targets+=(kaiwa)
    "$floor" $port_floor >"$work/floor.log" 2>&1 &
    pids+=($!)
    root[hummingbird]=$!
    "$floor" $port_proxy --proxy "http://127.0.0.1:$port_json/v1/chat/completions" "http://127.0.0.1:$port_sse/v1/chat/completions" \
        >"$work/proxy.log" 2>&1 &
    pids+=($!)
    root[proxy]=$!
    targets+=(hummingbird proxy)
fi

url() {  # target mode
    case $1 in
    nginx) if [ "$2" = stream ]; then echo "http://127.0.0.1:$port_sse/v1/chat/completions"; else echo "http://127.0.0.1:$port_json/v1/chat/completions"; fi ;;
    litellm-1) echo "http://127.0.0.1:$port_litellm1/v1/chat/completions" ;;
    litellm-2) echo "http://127.0.0.1:$port_litellm2/v1/chat/completions" ;;
    kaiwa) echo "http://127.0.0.1:$port_kaiwa/v1/chat/completions" ;;
    hummingbird) echo "http://127.0.0.1:$port_floor/v1/chat/completions" ;;
    proxy) echo "http://127.0.0.1:$port_proxy/v1/chat/completions" ;;
    esac
}
log() {  # target
    case $1 in nginx) echo "$work/nginx/error.log" ;; litellm-1) echo "$work/litellm-1.log" ;;
    litellm-2) echo "$work/litellm-2.log" ;; kaiwa) echo "$work/kaiwa.log" ;; hummingbird) echo "$work/floor.log" ;; proxy) echo "$work/proxy.log" ;; esac
}

echo "== starting nginx, LiteLLM (1 and 2 workers)${kaiwa:+ and Kaiwa ($kaiwa)}"
for target in "${targets[@]}"; do
    case $target in
    nginx | hummingbird | proxy) ready=$(url "$target" json) ;;
    litellm-*) ready=$(url "$target" json | sed 's|/v1/chat/completions|/health/liveliness|') ;;
    kaiwa) ready="http://127.0.0.1:$port_kaiwa/ping" ;;
    esac
    for _ in $(seq 1200); do
        curl -s -o /dev/null -m 1 "$ready" && break
        kill -0 "${root[$target]}" 2>/dev/null || { echo "$target did not start:"; cat "$(log "$target")"; exit 1; }
        sleep 0.1
    done
    for mode in json stream; do
        python3 bench/gateway.py check "$(url "$target" $mode)" $mode "$key" || { cat "$(log "$target")"; exit 1; }
    done
done

rss_kb() {  # pid: VmRSS summed over it and its descendants
    local total=0 pid kb
    for pid in "$1" $(descendants "$1"); do
        kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || true
        total=$((total + ${kb:-0}))
    done
    echo $total
}
measure() {  # target mode connections seconds -> "req/s p50_ms p99_ms failed peak_rss_kb"
    local peak=0 rss
    local threads=2
    [ "$3" -ge 64 ] || threads=1  # at 8 connections one thread suffices and leaves a core to the targets
    wrk -t$threads -c"$3" -d"$4s" --timeout 10s --latency -H "Authorization: Bearer $key" -s bench/gateway.lua "$(url "$1" "$2")" -- "$2" >"$work/wrk.out" 2>&1 &
    local wrk_pid=$!
    if [ "$3" -ge 64 ]; then  # memory only under the heavy load; sampling costs the 8-connection runs nothing
        while kill -0 $wrk_pid 2>/dev/null; do
            rss=$(rss_kb "${root[$1]}")
            [ "$rss" -gt "$peak" ] && peak=$rss
            sleep 1
        done
    fi
    wait $wrk_pid || { cat "$work/wrk.out" >&2; return 1; }
    awk -v rss=$peak '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { failed += $NF }
        /Socket errors/ { failed += $4 + $6 + $8 + $10 }
        END { printf "%s %.3f %.3f %d %d\n", rps, p50, p99, failed, rss }' "$work/wrk.out"
}

echo "== warm-up: ${warmup}s plain and ${warmup}s streamed at 64 connections through each gateway"
for target in "${targets[@]}"; do
    [ "$target" = nginx ] && continue
    for mode in json stream; do measure "$target" $mode 64 "$warmup" >/dev/null; done
done

cores=$(nproc)
echo "== $rounds rounds of ${duration}s runs; $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
printf "%-5s %-10s %-6s %5s %10s %9s %9s %7s %9s\n" round target mode conn. req/s p50_ms p99_ms failed rss_MB
: >"$work/results"
for round in $(seq 1 "$rounds"); do
    first=$(( (round - 1) % ${#targets[@]} ))
    order=("${targets[@]:$first}" "${targets[@]:0:$first}")
    for run in "json 64" "stream 64" "json 8" "stream 8"; do
        read -r mode connections <<<"$run"
        for target in "${order[@]}"; do
            read -r rps p50 p99 failed rss <<<"$(measure "$target" "$mode" "$connections" "$duration")"
            [ -n "$rps" ] || { echo "wrk failed against $target"; exit 1; }
            echo "$round $target $mode $connections $rps $p50 $p99 $failed $rss" >>"$work/results"
            printf "%-5s %-10s %-6s %5s %10s %9s %9s %7s %9s\n" "$round" "$target" "$mode" "$connections" "$rps" "$p50" "$p99" \
                "$failed" "$([ "$rss" -gt 0 ] && awk -v kb="$rss" 'BEGIN {printf "%.1f", kb / 1024}' || echo -)"
            sleep 1
        done
    done
done

echo
kind=release
case $kaiwa in *"/debug/"*) kind="DEBUG build: not the figures to report" ;; esac
python3 bench/gateway.py summary "$work/results" "**Gateway benchmark** ($(date -u +%Y-%m-%d), $cores cores shared by wrk, nginx and the gateway; $rounds rounds of ${duration}s, medians; nginx $("$nginx" -v 2>&1 | sed 's|.*/||'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), LiteLLM $litellm_version${kaiwa:+, Kaiwa $kind})"
