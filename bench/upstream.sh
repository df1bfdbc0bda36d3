#!/usr/bin/env bash
# Real-model benchmark (issue 4): requests/s and latency of a fake OpenAI-compatible upstream
# called directly, then of Kaiwa's /chat in front of it (64 connections, release builds,
# SQLite store). Set LITELLM=1 to also measure LiteLLM's proxy in front of the same upstream
# (installs litellm[proxy] into bench/.venv). Usage: bench/upstream.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product kaiwa >/dev/null
swift build -c release --product kaiwa-fake-openai >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin/kaiwa-fake-openai" 19090 & pids+=($!)
KAIWA_MODEL=openai:bench KAIWA_OPENAI_BASE_URL=http://127.0.0.1:19090/v1 KAIWA_SQLITE_PATH="$work/kaiwa.sqlite" \
    "$bin/kaiwa" serve --port 19080 >/dev/null 2>&1 & pids+=($!)
until curl -sf http://127.0.0.1:19080/ping >/dev/null && curl -s -o /dev/null http://127.0.0.1:19090/; do sleep 0.1; done

echo "== upstream directly"
wrk -t2 -c64 -d"${duration}s" --latency -s bench/openai-chat.lua http://127.0.0.1:19090/v1/chat/completions | grep -E "Requests/sec|50%|99%"
echo "== Kaiwa /chat in front of it"
wrk -t2 -c64 -d"${duration}s" --latency -s bench/chat.lua http://127.0.0.1:19080/chat | grep -E "Requests/sec|50%|99%"

if [ "${LITELLM:-0}" = 1 ]; then
    [ -x bench/.venv/bin/litellm ] || { python3 -m venv bench/.venv && bench/.venv/bin/pip install -q 'litellm[proxy]'; }
    cat > "$work/litellm.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params: {model: openai/bench, api_base: "http://127.0.0.1:19090/v1", api_key: "none"}
YAML
    bench/.venv/bin/litellm --config "$work/litellm.yaml" --port 19070 >/dev/null 2>&1 & pids+=($!)
    until curl -s -o /dev/null http://127.0.0.1:19070/health/liveliness; do sleep 0.5; done
    echo "== LiteLLM proxy in front of it"
    wrk -t2 -c64 -d"${duration}s" --latency -s bench/openai-chat.lua http://127.0.0.1:19070/v1/chat/completions | grep -E "Requests/sec|50%|99%"
fi
