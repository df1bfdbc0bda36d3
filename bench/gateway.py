"""Helpers for bench/gateway.sh (issue 13).

  python3 bench/gateway.py check URL json|stream KEY
      Sends the request bench/gateway.lua sends and checks the answer is the fixed completion
      nginx gives (sending KEY as a bearer token), in OpenAI's shape: a chat.completion with usage, or chat.completion.chunk
      lines whose deltas join into the same text, a usage chunk, and `data: [DONE]` last.
  python3 bench/gateway.py summary RESULTS HEADER
      Medians over the rounds of RESULTS (lines: round target mode connections req/s p50_ms
      p99_ms errors rss_kb) as a Markdown table, then Kaiwa's ratios against the issue's targets.
"""
import json, statistics, sys, urllib.request

TEXT = "Hello from the fixed upstream."
BODIES = {
    "json": {"model": "fake", "messages": [{"role": "user", "content": "Say hello."}]},
    "stream": {"model": "fake-stream", "stream": True, "stream_options": {"include_usage": True},
               "messages": [{"role": "user", "content": "Say hello."}]},
}


def check(url, mode, key):
    request = urllib.request.Request(url, json.dumps(BODIES[mode]).encode(),
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    try:
        assert status == 200, f"status {status}"
        if mode == "json":
            answer = json.loads(body)
            assert answer["object"] == "chat.completion", "not a chat.completion"
            assert answer["choices"][0]["message"]["content"] == TEXT, "wrong content"
            assert answer["usage"]["total_tokens"] > 0, "no usage"
        else:
            events = [line[len("data: "):] for line in body.splitlines() if line.startswith("data: ")]
            assert events and events[-1] == "[DONE]", "no data: [DONE] at the end"
            chunks = [json.loads(event) for event in events[:-1]]
            assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks), "not chat.completion.chunk"
            text = "".join(choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"])
            assert text == TEXT, f"deltas join into {text!r}"
            assert any((chunk.get("usage") or {}).get("total_tokens") for chunk in chunks), "no usage chunk"
    except (AssertionError, KeyError, IndexError, TypeError, ValueError) as problem:
        sys.exit(f"{url} ({mode}): {problem}; the answer was:\n{body[:2000]}")


def summary(path, header):
    rows = {}  # (target, mode, connections) -> [(round, rps, p50, p99, errors, rss_kb)]
    for line in open(path):
        round_, target, mode, connections, rps, p50, p99, errors, rss = line.split()
        rows.setdefault((target, mode, int(connections)), []).append(
            (int(round_), float(rps), float(p50), float(p99), int(errors), int(rss)))
    targets = list(dict.fromkeys(target for target, _, _ in rows))

    def per_round(target, mode, connections, field):
        return {r[0]: r[field] for r in rows.get((target, mode, connections), [])}

    def median(target, mode, connections, field):
        values = list(per_round(target, mode, connections, field).values())
        return statistics.median(values) if values else float("nan")

    print(header)
    print()
    print("| target | req/s, 64 conn. | req/s streamed, 64 conn. | p50 / p99 ms, 8 conn. "
          "| p50 / p99 ms streamed, 8 conn. | RSS under load, plain / streamed | failed requests |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for target in targets:
        errors = sum(r[4] for key, values in rows.items() if key[0] == target for r in values)
        print(f"| {target} | {median(target, 'json', 64, 1):,.0f} | {median(target, 'stream', 64, 1):,.0f} "
              f"| {median(target, 'json', 8, 2):.2f} / {median(target, 'json', 8, 3):.2f} "
              f"| {median(target, 'stream', 8, 2):.2f} / {median(target, 'stream', 8, 3):.2f} "
              f"| {median(target, 'json', 64, 5) / 1024:,.0f} / {median(target, 'stream', 64, 5) / 1024:,.0f} MB "
              f"| {errors} |")

    def median_of(pairs):  # median over rounds of a per-round ratio or difference
        values = list(pairs)
        return statistics.median(values) if values else float("nan")

    print()
    print("Added latency over nginx direct (median over rounds of target minus nginx, 8 connections):")
    print()
    print("| target | p50 added | p99 added | p50 added, streamed | p99 added, streamed |")
    print("|---|---:|---:|---:|---:|")
    for target in targets:
        if target == "nginx":
            continue
        cells = []
        for mode in ("json", "stream"):
            for field in (2, 3):
                mine, base = per_round(target, mode, 8, field), per_round("nginx", mode, 8, field)
                cells.append(f"{median_of(mine[r] - base[r] for r in mine if r in base):.2f} ms")
        print(f"| {target} | " + " | ".join(cells) + " |")

    if "kaiwa" not in targets:
        return
    print()
    print("Kaiwa against the issue's targets (medians over rounds of per-round ratios):")
    print()
    print("| measure | plain | streamed | target | met |")
    print("|---|---:|---:|---:|:-:|")

    def throughput(mode, other):
        mine, theirs = per_round("kaiwa", mode, 64, 1), per_round(other, mode, 64, 1)
        return median_of(mine[r] / theirs[r] for r in mine if r in theirs and theirs[r] > 0)

    def added(mode, field, base_target="nginx"):
        mine, base = per_round("kaiwa", mode, 8, field), per_round(base_target, mode, 8, field)
        return median_of(mine[r] - base[r] for r in mine if r in base)

    def met(values, good):
        return "yes" if all(good(v) for v in values) else "no"

    if "litellm-2" in targets:
        values = [throughput("json", "litellm-2"), throughput("stream", "litellm-2")]
        print(f"| throughput ÷ LiteLLM 2 workers | {values[0]:.0f}× | {values[1]:.0f}× | ≥ 50× "
              f"| {met(values, lambda v: v >= 50)} |")
    for field, name, limit in ((2, "p50", 0.5), (3, "p99", 2.0)):
        values = [added("json", field), added("stream", field)]
        print(f"| {name} added over nginx direct | {values[0]:.2f} ms | {values[1]:.2f} ms | ≤ {limit} ms "
              f"| {met(values, lambda v: v <= limit)} |")
    # The floors: the same answer from a Hummingbird server that does nothing else, and the
    # same server passing bytes to nginx and back. What they add over nginx, a gateway written
    # with Kaiwa's HTTP stack (server and client) cannot avoid on this machine.
    for floor_target, floor_name in (("hummingbird", "Hummingbird answering itself"), ("proxy", "Hummingbird + AsyncHTTPClient passing bytes")):
        if floor_target not in targets:
            continue
        for field, name in ((2, "p50"), (3, "p99")):
            floor = [added("json", field, "nginx") - added("json", field, floor_target),
                     added("stream", field, "nginx") - added("stream", field, floor_target)]
            print(f"| floor: {floor_name}, {name} added over nginx | {floor[0]:.2f} ms | {floor[1]:.2f} ms | | |")
        for field, name in ((2, "p50"), (3, "p99")):
            over = [added("json", field, floor_target), added("stream", field, floor_target)]
            print(f"| Kaiwa's {name} added over that floor | {over[0]:.2f} ms | {over[1]:.2f} ms | | |")

    def memory(mode, other):
        mine, theirs = per_round("kaiwa", mode, 64, 5), per_round(other, mode, 64, 5)
        return median_of(mine[r] / theirs[r] for r in mine if r in theirs and theirs[r] > 0)

    for other, name in (("litellm-1", "1 worker"), ("litellm-2", "2 workers")):
        if other in targets:
            values = [memory("json", other), memory("stream", other)]
            print(f"| RSS under load ÷ LiteLLM {name} | 1/{1 / values[0]:.1f} | 1/{1 / values[1]:.1f} | ≤ 1/10 "
                  f"| {met(values, lambda v: v <= 0.1)} |")


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "summary":
        summary(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
