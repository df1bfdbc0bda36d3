"""Search and long-conversation latency (issue 15), against a running Kaiwa: GET /api/sessions?q=
for words found in few, many and no conversations, and GET /api/sessions/{id} of a conversation
of 1,000 messages on its branch (with 50 edited questions beside it), interleaved with GET /ping (the floor: the cheapest request), sequential.
Prints p50, p99 and max of each in milliseconds."""
import http.client, statistics, sys, time, urllib.parse

port, rounds = int(sys.argv[1]), int(sys.argv[2])
# Common words (in a quarter of the messages), rarer phrases, and words found nowhere; 東京 and
# 京都 are two characters, below a trigram, and are looked for by scanning.
QUERIES = ["カンファレンス", "conference", "紅葉の京都", "actor", "no-such-words-here", "Swift 6", "ぷるぷる", "懇親会について"]
SHORT = ["東京", "京都"]


def timed(connection, path):
    start = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status == 200, (path, response.status, body[:200])
    return elapsed


connection = http.client.HTTPConnection("127.0.0.1", port)
# The long conversation is shown as its current branch, with the other versions named.
connection.request("GET", "/api/sessions/long?limit=1000")
detail = __import__("json").loads(connection.getresponse().read())
assert len(detail["messages"]) == 1000, len(detail["messages"])
assert sum(1 for m in detail["messages"] if m.get("branch", {}).get("count") == 2) == 50
samples = {"ping (floor)": [], "search": [], "search, 2 characters": [], "open 1,000 messages": []}
for _ in range(rounds):
    for query in QUERIES:
        samples["ping (floor)"].append(timed(connection, "/ping"))
        samples["search"].append(timed(connection, "/api/sessions?limit=50&q=" + urllib.parse.quote(query)))
    for query in SHORT:
        samples["search, 2 characters"].append(timed(connection, "/api/sessions?limit=50&q=" + urllib.parse.quote(query)))
    samples["open 1,000 messages"].append(timed(connection, "/api/sessions/long?limit=1000"))


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


for name, values in samples.items():
    print(f"  {name:22} n={len(values):5}  p50 {p(values, .5):6.2f} ms  p99 {p(values, .99):6.2f} ms  max {max(values):6.2f} ms")
