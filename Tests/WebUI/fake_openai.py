"""A small OpenAI-compatible model server for the browser tests.

Kaiwa runs with `KAIWA_MODEL=openai:fake-model` and `KAIWA_OPENAI_BASE_URL` pointing here
(or with a model catalogue whose models point here). What it answers depends on tags in the
user's last message:

    [slow N MS]   N words "w1 … wN", one every MS milliseconds
    [hold NAME K] with [slow …]: after K words (0: before the first) waits until the test
                  calls `release(NAME)`; `wait_until_held(NAME)` returns once it waits. The
                  reply is then surely running, and surely not finished. `new_hold()` names one.
    [wait MS]     nothing for MS milliseconds, then the answer (the page shows its typing dots)
    Markdown      a reply using most of Markdown
    [xss]         calls a tool whose name and input are HTML, then replies with HTML and
                  javascript: links
    [tool]        calls calc_add (an MCP tool) and calc_missing (no such tool), then sums up
    1234 + 4321   calls calc_add, then answers in Markdown (the README screenshot)
    [fail]        answers HTTP 500 (Kaiwa then says the service is unavailable)
    [hang]        says nothing for a long time (Kaiwa then reports a model timeout)
    [model]       "Model: <the model the request named>" (which upstream model was asked)
    otherwise     "Echo: <message>"

Every answer streams `chat.completion.chunk` events and ends with a usage chunk
(12 prompt tokens, one completion token per chunk).
"""

import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longest a hold waits when the test never releases it (Kaiwa's idle timeout ends the reply first).
HOLD_LIMIT_SECONDS = 120

XSS_TOOL_NAME = '<img src=x onerror="window.__xss=21">'

XSS_REPLY = """Here are the payloads, which must stay text:

<img src=x onerror="window.__xss=1;document.title='pwned'">
<script>window.__xss=2;document.title='pwned'</script>
<svg onload="window.__xss=3"></svg>

[click me](javascript:window.__xss=4) and [data link](data:text/html,<script>window.__xss=5</script>)
[entity link](&#106;avascript:window.__xss=10) and <data:text/html,<script>window.__xss=11</script>>
<a href="javascript:window.__xss=6">raw anchor</a> <iframe src="javascript:window.__xss=7"></iframe>

```html
<img src=x onerror="window.__xss=8">
```

| cell | payload |
|---|---|
| one | <b onmouseover="window.__xss=9">bold?</b> |
"""

MARKDOWN_REPLY = """## Markdown check

Some **bold**, some *italic*, some `inline code` and ~~struck~~ text,
a [safe link](https://example.com/docs) and a bare https://example.org/page.

### Lists

- first item
- second item
  - nested item
1. one
2. two

> a quoted line

```python
def greet(name):
    return f"Hello, {name}!"
```

| Language | Typing |
|:---|:---:|
| Swift | static |
| Python | dynamic |
"""

DEMO_REPLY = """### 1234 + 4321 = **{result}**

The `calc_add` tool (an MCP server) did the sum. The same in Swift:

```swift
let (a, b) = (1234, 4321)
print("\\(a) + \\(b) = \\(a + b)")  // 5555
```

| | value |
|:--|--:|
| first number | 1234 |
| second number | 4321 |
| **sum** | **{result}** |

More on operators in [the Swift book](https://docs.swift.org/swift-book/)."""



def text_of(content):
    """A message's text; image parts are counted as "[n image]" after it."""
    if isinstance(content, list):
        text = "".join(part.get("text", "") for part in content if part.get("type") == "text")
        images = sum(1 for part in content if part.get("type") == "image_url")
        return text + (f" [{images} image]" if images else "")
    return content or ""

class FakeOpenAI:
    """Serves `/v1/chat/completions` on a free loopback port in a background thread."""

    def __init__(self):
        self.requests = []
        self.holds = {}  # name -> (reached, released) events
        self.holds_lock = threading.Lock()
        self.hold_names = itertools.count(1)
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release_all()
        self.server.shutdown()
        self.server.server_close()

    # ---- holding a reply until the test releases it ----

    def new_hold(self):
        """A hold name no other test uses."""
        return f"h{next(self.hold_names)}"

    def _hold(self, name):
        with self.holds_lock:
            return self.holds.setdefault(name, (threading.Event(), threading.Event()))

    def wait_until_held(self, name, timeout=40):
        """Returns once an answer waits at hold `name`."""
        reached, _ = self._hold(name)
        assert reached.wait(timeout), f"the fake model never reached hold {name}"

    def is_held(self, name):
        reached, released = self._hold(name)
        return reached.is_set() and not released.is_set()

    def release(self, name):
        self._hold(name)[1].set()

    def release_all(self):
        with self.holds_lock:
            holds = list(self.holds.values())
        for _, released in holds:
            released.set()

    def wait_at_hold(self, name):
        reached, released = self._hold(name)
        reached.set()
        released.wait(HOLD_LIMIT_SECONDS)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # Kaiwa hanging up a kept-alive connection is no news


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.fake.requests.append(body)
        messages = body.get("messages", [])
        user_text = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        after_tools = bool(messages) and messages[-1].get("role") == "tool"

        if "[fail]" in user_text:
            return self.send_json(500, {"error": {"message": "the fake model is down", "type": "server_error"}})
        if "[hang]" in user_text:
            time.sleep(20)
            return self.send_json(500, {"error": {"message": "too late", "type": "server_error"}})

        wait = re.search(r"\[wait (\d+)\]", user_text)
        if wait:
            time.sleep(int(wait.group(1)) / 1000)

        try:
            self.start_stream()
            if after_tools:
                results = [m.get("content") or "" for m in messages if m.get("role") == "tool"]
                if "1234 + 4321" in user_text:
                    self.stream_text(DEMO_REPLY.format(result=results[0]), pieces=12)
                elif "[xss]" in user_text:
                    self.stream_text(XSS_REPLY, pieces=6)
                else:
                    self.stream_text("The tools answered: " + " / ".join(f"`{r}`" for r in results) + ". The sum is **5**.")
            elif "[tool]" in user_text:
                self.stream_tool_calls([("calc_add", {"a": 2, "b": 3}), ("calc_missing", {"x": 1})], preface="Let me calculate. ")
            elif "[xss]" in user_text:
                self.stream_tool_calls([(XSS_TOOL_NAME, {"html": "<script>window.__xss=20</script>"})], preface="")
            elif "1234 + 4321" in user_text:
                self.stream_tool_calls([("calc_add", {"a": 1234, "b": 4321})], preface="")
            elif (slow := re.search(r"\[slow (\d+) (\d+)\]", user_text)):
                count, delay = int(slow.group(1)), int(slow.group(2)) / 1000
                holds = {int(after): name for name, after in re.findall(r"\[hold (\w+) (\d+)\]", user_text)}
                self.stream_pieces([f"w{i} " for i in range(1, count + 1)], delay, holds)
            elif "[model]" in user_text:
                self.stream_text(f"Model: {body.get('model')}", pieces=2)
            elif "Markdown" in user_text:
                self.stream_text(MARKDOWN_REPLY, pieces=10)
            else:
                self.stream_text(f"Echo: {user_text}", pieces=4)
            self.finish_stream()
        except (BrokenPipeError, ConnectionResetError):
            pass  # Kaiwa stopped the reply and hung up

    # ---- answers ----

    def send_json(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self):
        self.completion_tokens = 0
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def send_event(self, payload):
        text = payload if isinstance(payload, str) else json.dumps(payload)
        data = f"data: {text}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def chunk(self, delta, finish_reason=None):
        self.completion_tokens += 1
        self.send_event({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        })

    def stream_pieces(self, pieces, delay=0.0, holds=None):
        self.chunk({"role": "assistant", "content": ""})
        for index, piece in enumerate(pieces):
            if holds and index in holds:
                self.fake.wait_at_hold(holds[index])
            if delay:
                time.sleep(delay)
            self.chunk({"content": piece})
        self.chunk({}, finish_reason="stop")

    def stream_text(self, text, pieces=4):
        size = max(1, -(-len(text) // pieces))
        self.stream_pieces([text[i:i + size] for i in range(0, len(text), size)], delay=0.02)

    def stream_tool_calls(self, calls, preface):
        self.chunk({"role": "assistant", "content": preface})
        for index, (name, arguments) in enumerate(calls):
            encoded = json.dumps(arguments)
            half = len(encoded) // 2
            self.chunk({"tool_calls": [{"index": index, "id": f"call_{index}", "type": "function",
                                        "function": {"name": name, "arguments": encoded[:half]}}]})
            self.chunk({"tool_calls": [{"index": index, "function": {"arguments": encoded[half:]}}]})
        self.chunk({}, finish_reason="tool_calls")

    def finish_stream(self):
        self.send_event({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake-model", "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": self.completion_tokens,
                      "total_tokens": 12 + self.completion_tokens},
        })
        self.send_event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


if __name__ == "__main__":
    fake = FakeOpenAI().start()
    print(fake.base_url, flush=True)
    threading.Event().wait()
