"""A small OpenAI-compatible upstream for the API tests: Kaiwa's catalogue models point here.

It answers `POST /v1/chat/completions` streamed (`chat.completion.chunk` events, a usage chunk
when asked for, `data: [DONE]`) and not streamed (one `chat.completion`), always with usage.
What it answers depends on the request:

    the last message is a `tool` message     "The tool said: <its content>"
    `tools` given and the last user message
    says "[call NAME]"                       a call of the first tool whose name contains NAME,
                                             with ARGUMENTS[tool name] (else {}) as arguments
    the last user message says "[hang]"      nothing until the test ends (Kaiwa times out)
    otherwise                                "Echo from <name>: <the last user message>"

`answer_with(status)` makes it answer every request with that HTTP error (429 with
`Retry-After`, 500, …) until the block ends. `requests` keeps every request body it got,
`headers` their headers.
"""

import json
import re
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Arguments of the tool calls it makes, by tool name.
ARGUMENTS = {
    "get_weather": {"city": "Tokyo"},
    "calc_add": {"a": 1234, "b": 4321},
}

PROMPT_TOKENS = 12
HANG_LIMIT_SECONDS = 60


class FakeUpstream:
    def __init__(self, name):
        self.name = name
        self.requests = []
        self.headers = []
        self.status = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    @contextmanager
    def answer_with(self, status):
        """Every request inside the block is answered with HTTP `status`."""
        self.status = status
        try:
            yield self
        finally:
            self.status = None

    def _record(self, body, headers):
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)

    def _handler(self):
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._json(400, _error("The body is not JSON.", "invalid_request_error"))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._json(404, _error(f"No route {self.path}.", "invalid_request_error"))
                upstream._record(body, {name.lower(): value for name, value in self.headers.items()})
                status = upstream.status
                if status == 429:
                    return self._json(429, _error("Rate limit reached.", "rate_limit_exceeded"), {"Retry-After": "1"})
                if status:
                    return self._json(status, _error(f"Failing with {status} as told.", "server_error"))
                text, calls = upstream._answer(body)
                if text is None:  # [hang]: never answers (until the test ends)
                    upstream._stopping.wait(HANG_LIMIT_SECONDS)
                    return
                if body.get("stream"):
                    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    self._stream(body.get("model", "fake"), text, calls, include_usage)
                else:
                    self._json(200, _completion(body.get("model", "fake"), text, calls))

            def _json(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model, text, calls, include_usage):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                chunks = [{"role": "assistant", "content": ""}]
                pieces = re.findall(r"\S+\s*", text) if text else []
                chunks += [{"content": piece} for piece in pieces]
                for index, call in enumerate(calls):
                    chunks.append({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                                   "function": {"name": call["name"], "arguments": ""}}]})
                    arguments = call["arguments"]
                    middle = len(arguments) // 2
                    for fragment in (arguments[:middle], arguments[middle:]):
                        chunks.append({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
                identity = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
                for delta in chunks:
                    self._event({**identity, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                finish = "tool_calls" if calls else "stop"
                self._event({**identity, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
                if include_usage:
                    self._event({**identity, "choices": [], "usage": _usage(len(pieces) + len(calls))})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload):
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler

    def _answer(self, body):
        """(text, tool calls) for a request; (None, []) to hang."""
        messages = body.get("messages") or []
        last = messages[-1] if messages else {}
        if last.get("role") == "tool":
            return f"The tool said: {_text(last.get('content'))}", []
        user = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        if "[hang]" in user:
            return None, []
        wanted = re.search(r"\[call (\w+)\]", user)
        tools = [tool["function"]["name"] for tool in body.get("tools") or [] if tool.get("type") == "function"]
        if wanted and tools:
            name = next((tool for tool in tools if wanted.group(1) in tool), tools[0])
            call = {"id": f"call_{len(self.requests)}", "name": name, "arguments": json.dumps(ARGUMENTS.get(name, {}))}
            return "", [call]
        return f"Echo from {self.name}: {user}", []


def _text(content):
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _usage(completion_tokens):
    return {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": completion_tokens,
            "total_tokens": PROMPT_TOKENS + completion_tokens}


def _completion(model, text, calls):
    message = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [{"id": call["id"], "type": "function",
                                  "function": {"name": call["name"], "arguments": call["arguments"]}} for call in calls]
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": _usage(max(1, len(text.split())) + len(calls)),
    }


def _error(message, code):
    return {"error": {"message": message, "type": code, "param": None, "code": code}}


def closed_port_url():
    """The base URL of a port nothing listens on (it was free a moment ago): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
