#!/usr/bin/env bash
# Crash safety under repetition (issue 16): the crash-safety test's rounds, many times. Each
# round starts `kaiwa serve`, streams replies over SSE and WebSocket at once, kills the server
# with SIGKILL mid-stream, restarts it on the same store and checks every conversation
# (acknowledged messages there once, interrupted replies kept as partial, resumes that end,
# new messages answered); SQLite's file gets `PRAGMA integrity_check` at the end. Prints the
# counts for SQLite and for DynamoDB (moto_server, `pip install 'moto[server]'`).
# Usage: bench/chaos.sh [ROUNDS]   (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-50}
KAIWA_CHAOS_ROUNDS=$rounds swift test --filter CrashSafetyTests 2>&1 | tee /tmp/kaiwa-chaos.log | grep -E '^chaos |✘|error:' || true
grep -q "Test run with .* passed" /tmp/kaiwa-chaos.log && echo "chaos: $rounds rounds per store passed" || { echo "chaos: failures, see /tmp/kaiwa-chaos.log"; exit 1; }
