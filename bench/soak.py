"""Soak test: a steady mix of Kaiwa's chat traffic at a fixed rate for a while, with the
server's resident memory sampled every 10 s. Started by bench/soak.sh, which runs the server
(rules model, SQLite store) and passes its port and process id.

Each slot of the schedule (RATE a second, in a shuffled cycle of 20) is one of:
  chat           POST /chat, half in a new session, half continuing one of its own sessions
  stream         POST /chat/stream in a new session, read to its `done`
  resume         GET /api/sessions/{id}/stream?last_event_id=N of a finished stream: the
                 events after N (none when N was the last), ending with `done`
  stop           POST /chat/stream, and POST /api/sessions/{id}/stop once its `session`
                 event arrives; the stream still ends with `done` (stopped or not: the rules
                 model answers at once, so the stop often comes too late), and the session's
                 newest message is that reply, `partial` if `done` says stopped, else `complete`
  ws             a sendMessage frame on one of a few WebSocket connections (each keeps its
                 session; it is closed and a new one opened after 10 frames), read to `done`
  ws stop        on such a connection, every other time a `stop` with nothing running (answered
                 `{"type":"stop","stopped":false}`), else a sendMessage followed at once by a
                 stop: its reply ends with a `done` that says stopped, or the stop is answered
                 `{"type":"stop","stopped":false}` (every client frame gets a frame back); the
                 stored reply is checked as above
  ws bad frame   a frame that is not JSON: an `error` frame, and the connection stays open
  sessions       GET /api/sessions?limit=20
  session        GET /api/sessions/{id} of a session made earlier
  bad …          malformed JSON, an empty message, a bad session id (in the body and in the
                 path), a wrong Content-Type, a body over 1 MiB, a message over 32 KiB: each
                 must get its own 4xx
Anything else (another status, a 5xx, a stream that does not end with `done`, a refused or
reset connection, an operation that takes over 30 s) is an unexpected error.

At the end: requests by kind and status (with latencies), the RSS samples, the RSS after the
warm-up (the first sample at or after 1 minute, or after 10% of the run if that is sooner) and
at the end, and their ratio. PASS (exit 0) when the end RSS is at most 10% over the warm-up
RSS, no answer was a 5xx and nothing unexpected happened; FAIL (exit 1) otherwise.

Usage: python3 bench/soak.py --port PORT --pid SERVER_PID [--minutes N] [--rate SLOTS_PER_SECOND] [--seed S]
"""
import argparse
import asyncio
import collections
import json
import os
import random
import re
import time
import uuid

import websockets
from websockets.asyncio.client import connect as ws_connect

HOST = "127.0.0.1"
OP_TIMEOUT = 30  # seconds: an operation that takes longer is a hang
RSS_INTERVAL = 10
WS_POOL = 4  # WebSocket connections kept open
WS_FRAMES_PER_CONNECTION = 10
MESSAGES = ["こんにちは", "hello", "天気はどう？", "TypeScriptのカンファレンスある？", "ありがとう", "soak test message"]
CYCLE = (["chat"] * 4 + ["stream"] * 4 + ["resume"] * 2 + ["stop"] + ["ws"] * 4 + ["ws stop"] + ["sessions"] + ["session"]
         + ["bad"] * 2)
# The bad requests, in turn, with the status each must get; `ws bad frame` takes a ws turn.
BAD = ["bad json", "bad empty message", "bad session id (body)", "bad session id (path)", "bad content type",
       "bad body over 1 MiB", "bad message over 32 KiB", "ws bad frame"]
BAD_STATUS = {"bad json": 400, "bad empty message": 400, "bad session id (body)": 400, "bad session id (path)": 400,
              "bad content type": 415, "bad body over 1 MiB": 413, "bad message over 32 KiB": 413}


class Unexpected(Exception):
    """An answer the server should not have given."""


class Stats:
    def __init__(self):
        self.counts = collections.Counter()  # (kind, status) -> n
        self.answers = 0  # answers to requests and frames (outcomes recorded on top of them are not counted)
        self.latency = collections.defaultdict(list)  # kind -> seconds
        self.server_errors = 0
        self.unexpected = collections.Counter()  # kind: what -> n
        self.examples = []

    def record(self, kind, status, seconds=None):
        self.counts[(kind, str(status))] += 1
        if seconds is not None:
            self.answers += 1
            self.latency[kind].append(seconds)
        if isinstance(status, int) and status >= 500:
            self.server_errors += 1

    def fail(self, kind, what):
        key = f"{kind}: {what}"
        self.unexpected[key] += 1
        if self.unexpected[key] == 1 and len(self.examples) < 20:  # when each first happened
            self.examples.append(f"{time.strftime('%H:%M:%S')} {key}")


stats = Stats()
port = 0


# HTTP/1.1 over a fresh connection each time (`Connection: close`), read to the end.

def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return status, headers, body


def dechunk(data):
    out, position = bytearray(), 0
    while True:
        end = data.index(b"\r\n", position)
        size = int(data[position:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2:end + 2 + size]
        position = end + 2 + size + 2


async def http(method, path, body=None, content_type="application/json", on_data=None):
    """(status, headers, body). `on_data(bytes so far)` is called as the answer arrives."""
    reader, writer = await asyncio.open_connection(HOST, port)
    raw = b""
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + (body or b""))
        try:
            await writer.drain()
        except ConnectionError:
            pass  # a server may answer (413) before it has read the whole body, and close
        while True:
            try:
                data = await reader.read(65536)
            except ConnectionResetError:
                if b"\r\n\r\n" in raw:
                    break  # the answer came before the reset (a body the server did not read)
                raise
            if not data:
                break
            raw += data
            if on_data:
                await on_data(raw)
    finally:
        writer.close()
    if not raw:
        raise Unexpected("connection closed without an answer")
    return parse_response(raw)


def json_body(data):
    return json.dumps(data, ensure_ascii=False).encode()


def sse_events(body):
    events = []
    for block in body.decode().split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if line.startswith(":") or not line:
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "data" in fields:
            events.append(json.loads(fields["data"]))
    return events


# Shared state: sessions made earlier, finished streams to resume, chat sessions free to continue.
known_sessions = collections.deque(maxlen=500)
finished_streams = collections.deque(maxlen=200)  # (session id, last seq)
chat_sessions = []  # (session id, turns) not in use
rng = random.Random(0)


def expect_status(kind, status, wanted, body):
    if status != wanted:
        raise Unexpected(f"status {status} (wanted {wanted}): {body[:200]!r}")


def check_stream(kind, events, after=0):
    """A reply's events after `after`: numbered on from it, ending with `done`."""
    if not events:
        raise Unexpected("a stream with no events")
    if events[0]["seq"] != after + 1 or any(b["seq"] != a["seq"] + 1 for a, b in zip(events, events[1:])):
        raise Unexpected(f"events out of sequence after {after}: {[e['seq'] for e in events]}")
    if events[-1]["type"] != "done":
        raise Unexpected(f"a stream that ends with {events[-1]!r}")
    return events[-1]


async def op_chat():
    session = None
    if chat_sessions and rng.random() < 0.5:
        session = chat_sessions.pop(rng.randrange(len(chat_sessions)))
    payload = {"message": rng.choice(MESSAGES)}
    if session:
        payload["session_id"] = session[0]
    started = time.perf_counter()
    status, _, body = await http("POST", "/chat", json_body(payload))
    stats.record("chat", status, time.perf_counter() - started)
    expect_status("chat", status, 200, body)
    answer = json.loads(body)
    if not answer.get("response") or (session and answer["session_id"] != session[0]):
        raise Unexpected(f"an answer without its reply or in another session: {body[:200]!r}")
    turns = session[1] + 1 if session else 1
    if turns < 20:
        chat_sessions.append((answer["session_id"], turns))
    known_sessions.append(answer["session_id"])


async def op_stream():
    started = time.perf_counter()
    status, headers, body = await http("POST", "/chat/stream", json_body({"message": rng.choice(MESSAGES)}))
    stats.record("stream", status, time.perf_counter() - started)
    expect_status("stream", status, 200, body)
    if not headers.get("content-type", "").startswith("text/event-stream"):
        raise Unexpected(f"Content-Type {headers.get('content-type')}")
    events = sse_events(body)
    check_stream("stream", events)
    session = events[0]["session_id"]
    known_sessions.append(session)
    finished_streams.append((session, events[-1]["seq"]))


async def op_resume():
    if not finished_streams:
        return await op_stream()
    session, last = rng.choice(finished_streams)
    after = rng.randint(0, last)
    started = time.perf_counter()
    status, _, body = await http("GET", f"/api/sessions/{session}/stream?last_event_id={after}")
    stats.record("resume", status, time.perf_counter() - started)
    expect_status("resume", status, 200, body)
    events = sse_events(body)
    if after == last:
        if events:
            raise Unexpected(f"events after the last one: {events!r}")
    else:
        check_stream("resume", events, after)


async def check_stored(kind, session, done):
    """The session's newest message is the reply `done` ended: `partial` when it says it was
    stopped, else `complete`."""
    started = time.perf_counter()
    status, _, body = await http("GET", f"/api/sessions/{session}?limit=1")
    stats.record("session (after a stop)", status, time.perf_counter() - started)
    expect_status(kind, status, 200, body)
    last = json.loads(body)["messages"][-1]
    wanted = "partial" if done["stopped"] else "complete"
    if last["role"] != "assistant" or last["id"] != done["message_id"] or last["status"] != wanted:
        raise Unexpected(f"done says stopped={done['stopped']}, the store has {last['role']} {last['id']} {last['status']} "
                         f"(wanted {done['message_id']} {wanted})")


SESSION_EVENT = re.compile(rb'data: (\{"type":"session"[^\n]*\})\n')


async def op_stop():
    stop_task = None

    async def on_data(raw):
        nonlocal stop_task
        if stop_task is None and (match := SESSION_EVENT.search(raw)):
            session = json.loads(match.group(1))["session_id"]
            stop_task = asyncio.create_task(stop(session))

    async def stop(session):
        started = time.perf_counter()
        status, _, body = await http("POST", f"/api/sessions/{session}/stop")
        stats.record("stop", status, time.perf_counter() - started)
        if status != 200:
            raise Unexpected(f"stop: status {status}: {body[:200]!r}")
        return json.loads(body)["stopped"]

    started = time.perf_counter()
    try:
        status, _, body = await http("POST", "/chat/stream", json_body({"message": rng.choice(MESSAGES)}), on_data=on_data)
        stats.record("stream (stopped)", status, time.perf_counter() - started)
        expect_status("stream (stopped)", status, 200, body)
        done = check_stream("stream (stopped)", sse_events(body))
    except BaseException:
        if stop_task:
            stop_task.cancel()
        raise
    if stop_task is None:
        raise Unexpected("a stream without a session event")
    stopped = await stop_task
    session = sse_events(body)[0]["session_id"]
    known_sessions.append(session)
    # The stop's `stopped` says whether a running reply was asked to stop; one that was asked
    # as it ended may still end `stopped: false`.
    stats.record("stream (stopped)", f"stop={str(stopped).lower()} done={str(done['stopped']).lower()}")
    await check_stored("stream (stopped)", session, done)


async def op_sessions():
    started = time.perf_counter()
    status, _, body = await http("GET", "/api/sessions?limit=20")
    stats.record("sessions", status, time.perf_counter() - started)
    expect_status("sessions", status, 200, body)
    if not isinstance(json.loads(body).get("sessions"), list):
        raise Unexpected(f"no sessions list: {body[:200]!r}")


async def op_session():
    if not known_sessions:
        return await op_sessions()
    session = rng.choice(known_sessions)
    started = time.perf_counter()
    status, _, body = await http("GET", f"/api/sessions/{session}")
    stats.record("session", status, time.perf_counter() - started)
    expect_status("session", status, 200, body)
    if len(json.loads(body).get("messages", [])) < 2:
        raise Unexpected(f"a session without its messages: {body[:200]!r}")


bad_turn = 0


async def op_bad():
    global bad_turn
    kind = BAD[bad_turn % len(BAD)]
    bad_turn += 1
    if kind == "ws bad frame":
        return await ws_op("ws bad frame")
    path, content_type = "/chat", "application/json"
    if kind == "bad json":
        body = b'{"message": "unfinished'
    elif kind == "bad empty message":
        body = json_body({"message": ""})
    elif kind == "bad session id (body)":
        body = json_body({"message": "hi", "session_id": "not a valid id!"})
    elif kind == "bad session id (path)":
        path, body = "/api/sessions/not%20valid%21", None
    elif kind == "bad content type":
        body, content_type = json_body({"message": "hi"}), "text/plain"
    elif kind == "bad body over 1 MiB":
        body = json_body({"message": "a" * (1024 * 1024 + 100)})
    else:
        body = json_body({"message": "a" * (32 * 1024 + 1)})
    started = time.perf_counter()
    status, _, answer = await http("GET" if body is None else "POST", path, body, content_type)
    stats.record(kind, status, time.perf_counter() - started)
    expect_status(kind, status, BAD_STATUS[kind], answer)
    if "error" not in json.loads(answer):
        raise Unexpected(f"an error without its code: {answer[:200]!r}")


# WebSocket connections, each with its own session, shared by the ws slots.

class Conversation:
    def __init__(self):
        self.socket = None
        self.session = None
        self.frames = 0
        self.stops = 0

    async def open(self):
        started = time.perf_counter()
        try:
            self.socket = await ws_connect(f"ws://{HOST}:{port}/ws", max_size=2 ** 20, open_timeout=10)
        except Exception as error:
            stats.record("ws connect", type(error).__name__)
            raise
        stats.record("ws connect", 101, time.perf_counter() - started)
        self.session = f"soak-ws-{uuid.uuid4()}"
        self.frames = 0

    async def close(self):
        if self.socket:
            await self.socket.close()
            self.socket = None

    async def receive(self):
        return json.loads(await self.socket.recv())

    async def send_message(self, kind):
        await self.socket.send(json.dumps({"action": "sendMessage", "message": rng.choice(MESSAGES), "session_id": self.session}))
        events = []
        while True:
            frame = await self.receive()
            if frame["type"] == "error" and "seq" not in frame:
                raise Unexpected(f"error frame {frame!r}")
            events.append(frame)
            if frame["type"] in ("done", "error"):
                break
        done = check_stream(kind, events)
        known_sessions.append(self.session)
        return done

    async def message(self):
        started = time.perf_counter()
        done = await self.send_message("ws")
        stats.record("ws", f"done stopped={done['stopped']}", time.perf_counter() - started)

    async def stop(self):
        started = time.perf_counter()
        self.stops += 1
        if self.stops % 2:
            await self.socket.send('{"action":"stop"}')
            frame = await self.receive()
            if frame != {"type": "stop", "stopped": False}:
                raise Unexpected(f"a stop with nothing running answered {frame!r}")
            stats.record("ws stop (idle)", "stopped=false", time.perf_counter() - started)
            return
        # A message, then a stop at once: the reply ends with a `done` that says it was
        # stopped, or it had already ended and the stop is answered `stopped: false`.
        await self.socket.send(json.dumps({"action": "sendMessage", "message": rng.choice(MESSAGES), "session_id": self.session}))
        await self.socket.send('{"action":"stop"}')
        events, stop_answer = [], None
        while not (events and events[-1]["type"] in ("done", "error") and (events[-1].get("stopped") or stop_answer)):
            try:
                frame = await asyncio.wait_for(self.receive(), 5)
            except asyncio.TimeoutError:
                ended = events[-1]["type"] if events else "nothing"
                raise Unexpected(f"a stop sent while the reply ran got no frame back in 5 s (the reply ended with {ended}, "
                                 f"stopped={events[-1].get('stopped') if events else None})") from None
            if frame["type"] == "stop":
                stop_answer = frame
            elif frame["type"] == "error" and "seq" not in frame:
                raise Unexpected(f"error frame {frame!r}")
            else:
                events.append(frame)
        done = check_stream("ws stop (running)", events)
        known_sessions.append(self.session)
        stats.record("ws stop (running)", f"done stopped={done['stopped']}", time.perf_counter() - started)
        await check_stored("ws stop (running)", self.session, done)

    async def bad_frame(self):
        started = time.perf_counter()
        await self.socket.send("this is not JSON")
        frame = await self.receive()
        if frame.get("type") != "error" or frame.get("error") != "bad_request":
            raise Unexpected(f"a frame that is not JSON answered {frame!r}")
        stats.record("ws bad frame", "error bad_request", time.perf_counter() - started)


ws_pool: asyncio.Queue = None


async def ws_op(kind):
    conversation = await ws_pool.get()
    try:
        if conversation.socket is None:
            await conversation.open()
        if kind == "ws":
            await conversation.message()
        elif kind == "ws stop":
            await conversation.stop()
        else:
            await conversation.bad_frame()
        conversation.frames += 1
        if conversation.frames >= WS_FRAMES_PER_CONNECTION:
            await conversation.close()
    except BaseException:
        # Whatever state it was left in, the next turn starts on a fresh connection.
        try:
            await conversation.close()
        except Exception:
            pass
        conversation.socket = None
        raise
    finally:
        ws_pool.put_nowait(conversation)


OPS = {"chat": op_chat, "stream": op_stream, "resume": op_resume, "stop": op_stop, "ws": lambda: ws_op("ws"),
       "ws stop": lambda: ws_op("ws stop"), "sessions": op_sessions, "session": op_session, "bad": op_bad}


async def run_op(kind):
    try:
        await asyncio.wait_for(OPS[kind](), OP_TIMEOUT)
    except asyncio.TimeoutError:
        stats.fail(kind, f"no end within {OP_TIMEOUT} s")
    except Unexpected as error:
        stats.fail(kind, str(error)[:300])
    except (OSError, websockets.exceptions.WebSocketException, ValueError, KeyError) as error:
        stats.fail(kind, f"{type(error).__name__}: {error}"[:300])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main():
    global port, ws_pool
    parser = argparse.ArgumentParser(description="Kaiwa soak test driver")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=50, help="slots a second (about as many requests)")
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()
    port = args.port
    rng.seed(args.seed)
    duration = args.minutes * 60
    warmup = min(60.0, duration * 0.1)
    ws_pool = asyncio.Queue()
    for _ in range(WS_POOL):
        ws_pool.put_nowait(Conversation())

    samples = []  # (seconds since start, kB)
    start = time.monotonic()
    cpu_start = cpu_seconds(args.pid)
    server_gone = False

    async def sample_memory():
        nonlocal server_gone
        while True:
            try:
                samples.append((time.monotonic() - start, rss_kb(args.pid)))
            except (OSError, RuntimeError):
                server_gone = True
                stats.fail("server", "the server process is gone")
                return
            await asyncio.sleep(RSS_INTERVAL)

    print(f"soak: {args.minutes:g} min, {args.rate:g} slots/s, against {HOST}:{port} (pid {args.pid}); "
          f"warm-up {warmup:.0f} s; RSS every {RSS_INTERVAL} s", flush=True)
    sampler = asyncio.create_task(sample_memory())
    tasks = set()
    interval = 1 / args.rate
    slot, next_at, cycle = 0, start, []
    next_progress = start + 60
    while time.monotonic() - start < duration and not server_gone:
        if not cycle:
            cycle = CYCLE[:]
            rng.shuffle(cycle)
        task = asyncio.create_task(run_op(cycle.pop()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        slot += 1
        next_at = start + slot * interval
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.monotonic() >= next_progress:
            next_progress += 60
            rss = f"{samples[-1][1] / 1024:.1f} MB" if samples else "-"
            print(f"  {time.monotonic() - start:5.0f} s: {sum(stats.counts.values())} answers, "
                  f"{stats.server_errors} 5xx, {sum(stats.unexpected.values())} unexpected, {len(tasks)} in flight, RSS {rss}", flush=True)
    load_seconds = time.monotonic() - start
    if tasks:
        await asyncio.wait(tasks, timeout=OP_TIMEOUT + 5)
    while not ws_pool.empty():
        await ws_pool.get_nowait().close()
    sampler.cancel()
    await asyncio.sleep(0.5)
    if not server_gone:
        samples.append((time.monotonic() - start, rss_kb(args.pid)))
    cpu_used = cpu_seconds(args.pid) - cpu_start if not server_gone else float("nan")

    # The report.
    total = stats.answers
    print(f"\n{'kind':<26} {'status':<20} {'count':>7} {'p50_ms':>8} {'p99_ms':>8}")
    shown = set()
    for (kind, status), count in sorted(stats.counts.items()):
        latencies = sorted(stats.latency.get(kind, [])) if kind not in shown else []
        shown.add(kind)
        p = lambda q: f"{latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000:.1f}" if latencies else ""
        print(f"{kind:<26} {status:<20} {count:>7} {p(0.5):>8} {p(0.99):>8}")
    print(f"answers: {total} in {load_seconds:.1f} s ({total / load_seconds:.1f}/s); server CPU {cpu_used:.1f} s "
          f"({cpu_used / max(total, 1) * 1000:.2f} ms an answer)")
    print("RSS samples (s: MB): " + ", ".join(f"{t:.0f}: {kb / 1024:.1f}" for t, kb in samples))
    ok = not server_gone and stats.server_errors == 0 and not stats.unexpected
    warm = next(((t, kb) for t, kb in samples if t >= warmup), None)
    if warm and samples and not server_gone:
        end_t, end_kb = samples[-1]
        ratio = end_kb / warm[1]
        after = [(t, kb) for t, kb in samples if t >= warm[0]]
        slope = ""
        if len(after) >= 3:
            mean_t = sum(t for t, _ in after) / len(after)
            mean_kb = sum(kb for _, kb in after) / len(after)
            fit = sum((t - mean_t) * (kb - mean_kb) for t, kb in after) / sum((t - mean_t) ** 2 for t, _ in after)
            slope = f"; trend after warm-up {fit * 60 / 1024:+.2f} MB/min"
        print(f"RSS after warm-up ({warm[0]:.0f} s): {warm[1] / 1024:.1f} MB; at the end ({end_t:.0f} s): {end_kb / 1024:.1f} MB; "
              f"ratio {ratio:.3f} (bar: at most 1.10){slope}")
        ok = ok and ratio <= 1.10
    else:
        print("RSS: no sample after the warm-up")
        ok = False
    print(f"5xx: {stats.server_errors}; unexpected errors: {sum(stats.unexpected.values())}")
    for what, count in stats.unexpected.most_common():
        print(f"  {count:>5} × {what}")
    if stats.examples:
        print("first of each:")
        for example in stats.examples:
            print(f"  {example}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
