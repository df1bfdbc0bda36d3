#!/usr/bin/env bash
# Longer fuzzing of the live server against web/openapi.json: the API tests' schemathesis test
# (Tests/API/test_openapi.py, through scripts/test-api, which installs pinned schemathesis and
# starts Kaiwa with fake upstreams) with a budget of EXAMPLES test cases per operation in its
# fuzzing and stateful phases instead of the usual 5 (KAIWA_FUZZ_EXAMPLES). Same checks: no 5xx,
# only documented statuses, bodies that match their schemas. Prints the time it took and
# schemathesis' summary; exits non-zero when schemathesis found a problem.
# KAIWA_BIN and KAIWA_TEST_MCP_SERVER choose the binaries (default: the debug build's).
# Usage: bench/fuzz.sh [EXAMPLES]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-200}
case $examples in '' | *[!0-9]* | 0) echo "usage: bench/fuzz.sh [EXAMPLES]   (a whole number above 0)"; exit 2 ;; esac
echo "== schemathesis, $examples examples per operation, against ${KAIWA_BIN:-.build/debug/kaiwa}"
started=$(date +%s)
status=0
KAIWA_FUZZ_EXAMPLES=$examples scripts/test-api -k schemathesis -rP || status=$?
echo "== $(( $(date +%s) - started )) s in all; $([ $status = 0 ] && echo PASS || echo "FAIL (exit $status)")"
exit $status
