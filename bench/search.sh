#!/usr/bin/env bash
# Search benchmark (issue 15): a SQLite store of 10,000 conversations and 100,000 messages
# (Japanese and English, made with `kaiwa import`) plus one conversation of 1,000 messages on
# its current branch and 50 edited questions with their replies beside it (1,100 in all);
# then bench/search.py measures search and opening the long conversation beside GET /ping.
# Targets: search p99 ≤ 20 ms, opening 1,000 messages p99 ≤ 10 ms.
# Usage: bench/search.sh [ROUNDS]   (default 100: 800 searches). KAIWA_BIN skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-100}
if [ -n "${KAIWA_BIN:-}" ]; then
    kaiwa=$(realpath "$KAIWA_BIN")
else
    swift build -c release --product kaiwa >/dev/null
    kaiwa=$(swift build -c release --show-bin-path)/kaiwa
fi
work=$(mktemp -d /tmp/kaiwa-search.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$work/conversations.jsonl" <<'PY'
import json, random, sys
random.seed(7)
words_ja = ["東京", "京都", "紅葉", "勉強会", "カンファレンス", "イベント", "週末", "参加", "発表", "資料", "会場", "懇親会"]
words_en = ["conference", "swift", "actor", "concurrency", "talk", "slides", "venue", "meetup", "weekend", "Swift 6"]
def sentence():
    words = random.sample(words_ja, 3) + random.sample(words_en, 2)
    random.shuffle(words)
    return "について、".join(words[:3]) + "の話です。 " + " and ".join(words[3:]) + f" #{random.randint(1, 10**6)}"
with open(sys.argv[1], "w") as out:
    out.write('{"format":"kaiwa.export.v1"}\n')
    def line(id, count, minutes, branches=0):
        time = f"2026-11-{1 + minutes // 1440 % 28:02}T{minutes // 60 % 24:02}:{minutes % 60:02}:00Z"
        messages = [{"id": f"{id}-{n}", "role": "user" if n % 2 == 0 else "assistant", "content": [{"type": "text", "text": sentence()}],
                     "status": "complete", "created_at": time, "seq": n + 1, "parent_seq": n or None} for n in range(count)]
        # Branches: every tenth question edited once more and answered (a sibling and its reply).
        for b in range(branches):
            question = 20 * b + 1  # seq of a user message on the current branch
            seq = count + 2 * b + 1
            messages.append({"id": f"{id}-e{b}", "role": "user", "content": [{"type": "text", "text": sentence()}], "status": "complete",
                             "created_at": time, "seq": seq, "parent_seq": question - 1 or None})
            messages.append({"id": f"{id}-r{b}", "role": "assistant", "content": [{"type": "text", "text": sentence()}], "status": "complete",
                             "created_at": time, "seq": seq + 1, "parent_seq": seq})
        session = {"id": id, "title": sentence()[:40], "agent": "assistant", "created_at": time, "updated_at": time}
        if branches:
            session["current_leaf"] = count
        out.write(json.dumps({"session": session, "messages": messages}, ensure_ascii=False) + "\n")
    for number in range(10_000):
        line(f"s{number}", 10, number)
    line("long", 1000, 20_000, branches=50)
PY
start=$(date +%s)
KAIWA_SQLITE_PATH="$work/kaiwa.sqlite" "$kaiwa" import "$work/conversations.jsonl" >/dev/null
echo "== store: 10,001 conversations, 101,100 messages, imported in $(( $(date +%s) - start )) s; $(du -h "$work/kaiwa.sqlite" | cut -f1) of SQLite"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The data is from November 2026; retention must not sweep it while we measure.
KAIWA_SQLITE_PATH="$work/kaiwa.sqlite" KAIWA_PORT=$port KAIWA_LOG_LEVEL=warning KAIWA_SESSION_RETENTION=31536000 "$kaiwa" serve >/dev/null 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/ping" >/dev/null; do sleep 0.05; done
echo "== $rounds rounds, sequential, one connection"
python3 bench/search.py "$port" "$rounds"
