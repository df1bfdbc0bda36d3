"""`kaiwa chat` driven through tmux as a person would use it: it types into a real terminal
(tmux send-keys) and reads the screen (tmux capture-pane), against a real Kaiwa server and
the fake OpenAI-compatible model of the browser tests (Tests/WebUI), which both start here.

    KAIWA_BIN        the server binary (default .build/debug/kaiwa)
    KAIWA_CHAT_BIN   the binary whose `chat` is tested (default: KAIWA_BIN)

Each test's last screen is written to test-output/terminal/<test>.txt.
"""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests" / "WebUI"))

from fake_openai import FakeOpenAI  # noqa: E402
from kaiwa_server import KaiwaServer  # noqa: E402

OUTPUT = REPO / "test-output" / "terminal"
EXIT_MARK = "[kaiwa chat exited with"


def chat_binary():
    return str(Path(os.environ.get("KAIWA_CHAT_BIN") or KaiwaServer.binary()).resolve())


# ---- the server and the model ----


@pytest.fixture(scope="module")
def fake_model():
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def kaiwa(fake_model, tmp_path_factory):
    server = KaiwaServer(tmp_path_factory.mktemp("kaiwa-chat"), fake_model.base_url, name="chat").start()
    yield server
    server.stop()


def api(server, path, key=None, method="GET"):
    request = urllib.request.Request(server.url + path.lstrip("/"), method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def sessions(server, key=None):
    return api(server, "api/sessions?limit=200", key)["sessions"]


def session_titled(server, title, key=None):
    found = [s for s in sessions(server, key) if s["title"].startswith(title)]
    assert len(found) == 1, f"sessions titled {title!r}: {found}"
    return api(server, f"api/sessions/{found[0]['id']}", key)


# ---- a terminal ----


class Terminal:
    """`kaiwa chat` in a detached 120×40 tmux session on a tmux server of its own."""

    def __init__(self, tmp_path, name, arguments, env=None):
        self.name = name
        self.socket = str(tmp_path / f"tmux-{name}.sock")
        command = shlex.join([chat_binary(), "chat", *arguments])
        # Keep the pane after the program ends, to read how it ended.
        script = f'{command}; echo "{EXIT_MARK} $?]"; sleep 3600'
        environment = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(env or {})}
        environment.pop("TMUX", None)
        environment.pop("NO_COLOR", None)
        subprocess.run(
            ["tmux", "-u", "-S", self.socket, "-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
             "sh", "-c", script],
            env=environment, check=True, timeout=10,
        )
        self.last = ""

    def tmux(self, *arguments):
        return subprocess.run(["tmux", "-S", self.socket, *arguments], capture_output=True, text=True, timeout=10, check=True).stdout

    def type(self, text):
        """Types `text` (literally) and presses Enter."""
        self.tmux("send-keys", "-t", self.name, "-l", "--", text)
        self.tmux("send-keys", "-t", self.name, "Enter")

    def press(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def screen(self):
        """What the terminal shows, with its scrollback; wrapped lines joined."""
        self.last = self.tmux("capture-pane", "-p", "-J", "-t", self.name, "-S", "-1000")
        return self.last

    def wait_for(self, check, what, timeout=20):
        """Polls the screen until `check(screen)` (a function, or a regular expression to
        search for) holds; returns the screen."""
        test = check if callable(check) else (lambda screen: re.search(check, screen))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}; the screen:\n{self.screen()}")

    def wait_for_prompt(self, timeout=20):
        """Waits until the last line of the screen is the empty prompt."""
        return self.wait_for(lambda screen: last_line(screen) == ">", "the prompt", timeout)

    def exited(self):
        match = re.search(re.escape(EXIT_MARK) + r" (\d+)\]", self.screen())
        return int(match.group(1)) if match else None

    def close(self, test_name):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        try:
            (OUTPUT / f"{test_name}.txt").write_text(self.screen())
        except subprocess.SubprocessError:
            (OUTPUT / f"{test_name}.txt").write_text(self.last)
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=10)


def last_line(screen):
    lines = [line.rstrip() for line in screen.rstrip("\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines[-1] if lines else ""


@pytest.fixture
def open_terminal(request, tmp_path):
    terminals = []

    def start(server, *arguments, env=None):
        terminal = Terminal(tmp_path, f"chat{len(terminals)}", ["--url", server.url, *arguments], env)
        terminals.append(terminal)
        terminal.wait_for(lambda screen: "kaiwa chat" in screen and last_line(screen) == ">", "the banner and prompt")
        return terminal

    yield start
    for index, terminal in enumerate(terminals):
        terminal.close(request.node.name + (f"-{index}" if index else ""))


def token():
    return uuid.uuid4().hex[:8]


# ---- the tests ----


def test_a_reply_streams_in_as_it_is_written(kaiwa, open_terminal):
    terminal = open_terminal(kaiwa)
    tag = token()
    terminal.type(f"stream {tag} [slow 40 60]")
    # Part of the reply shows while the rest is still being written…
    partial = terminal.wait_for(r"\bw5\b", "the first words of the reply")
    assert "w40" not in partial, "the whole reply arrived at once"
    # …and then all of it, followed by the prompt.
    screen = terminal.wait_for(lambda s: "w40" in s and last_line(s) == ">", "the whole reply")
    assert re.search(r"^w1 w2 w3 .* w39 w40 *$", screen, re.M), screen
    assert terminal.exited() is None


def test_markdown_is_rendered_lightly(kaiwa, open_terminal):
    terminal = open_terminal(kaiwa)
    terminal.type("Show me some Markdown")
    screen = terminal.wait_for(lambda s: "Python | dynamic" in s and last_line(s) == ">", "the Markdown reply")
    reply = screen.split("Show me some Markdown", 1)[1]
    # Markers are gone, styles (not visible in a plain capture) replace them.
    assert "Some bold, some italic, some inline code and struck text," in reply
    assert "a safe link (https://example.com/docs)" in reply
    assert "• first item" in reply and "  • nested item" in reply
    assert "1. one" in reply
    assert "│ a quoted line" in reply
    assert "Markdown check" in reply and "## Markdown check" not in reply
    assert "╭─ python" in reply and '│     return f"Hello, {name}!"' in reply and "╰─" in reply
    assert "**" not in reply and "```" not in reply
    # The styles are there when asked with escapes: bold for **bold**, a colour for code.
    styled = terminal.tmux("capture-pane", "-p", "-e", "-t", terminal.name, "-S", "-1000")
    assert re.search(r"\x1b\[[0-9;]*1m(\x1b\[[0-9;]*m)*bold", styled), styled


def test_ctrl_c_stops_the_reply_but_not_the_program(kaiwa, fake_model, open_terminal):
    terminal = open_terminal(kaiwa)
    tag = token()
    terminal.type(f"interrupt {tag} [slow 200 50]")
    terminal.wait_for(r"\bw10\b", "the reply to be under way")
    terminal.press("C-c")
    screen = terminal.wait_for(lambda s: "[stopped]" in s and last_line(s) == ">", "the reply to stop", timeout=10)
    assert "w200" not in screen
    assert terminal.exited() is None, "Ctrl-C ended the program"

    # The server stopped writing: what it stored is partial and stays so.
    detail = session_titled(kaiwa, f"interrupt {tag}")
    reply = detail["messages"][-1]
    assert reply["role"] == "assistant" and reply["status"] == "partial", reply
    time.sleep(1.0)
    assert "w200" not in session_titled(kaiwa, f"interrupt {tag}")["messages"][-1]["text"]
    assert "w200" not in terminal.screen()

    # The program answers the next message, in the same conversation.
    terminal.type(f"still here {tag}")
    terminal.wait_for(lambda s: f"Echo: still here {tag}" in s and last_line(s) == ">", "the next reply")
    messages = session_titled(kaiwa, f"interrupt {tag}")["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[-1]["text"] == f"Echo: still here {tag}" and messages[-1]["status"] == "complete"


def test_ctrl_c_at_the_prompt_does_not_quit(kaiwa, open_terminal):
    terminal = open_terminal(kaiwa)
    terminal.press("-l", "half a line")
    terminal.press("C-c")
    screen = terminal.wait_for(r"type /quit or press Ctrl-D", "the hint")
    assert last_line(screen) == ">"
    assert terminal.exited() is None
    # The half-typed line was dropped: the next line is sent alone.
    tag = token()
    terminal.type(f"after the hint {tag}")
    terminal.wait_for(lambda s: f"Echo: after the hint {tag}" in s and last_line(s) == ">", "the reply")
    assert "half a line" not in session_titled(kaiwa, f"after the hint {tag}")["messages"][0]["text"]


def test_new_starts_a_new_conversation_and_open_returns_to_one(kaiwa, open_terminal):
    terminal = open_terminal(kaiwa)
    tag = token()
    before = len(sessions(kaiwa))

    terminal.type(f"first {tag}")
    terminal.wait_for(lambda s: f"Echo: first {tag}" in s and last_line(s) == ">", "the first reply")
    terminal.type(f"second {tag}")
    terminal.wait_for(lambda s: f"Echo: second {tag}" in s and last_line(s) == ">", "the second reply")
    assert len(sessions(kaiwa)) == before + 1, "two messages made two conversations"
    first = session_titled(kaiwa, f"first {tag}")
    assert len(first["messages"]) == 4

    terminal.type("/new")
    terminal.wait_for(r"New conversation", "/new's answer")
    terminal.type(f"third {tag}")
    terminal.wait_for(lambda s: f"Echo: third {tag}" in s and last_line(s) == ">", "the third reply")
    assert len(sessions(kaiwa)) == before + 2, "/new did not start a new conversation"
    third = session_titled(kaiwa, f"third {tag}")
    assert third["id"] != first["id"]
    assert len(third["messages"]) == 2

    # /sessions lists both (id, updated, title), the current one marked.
    terminal.type("/sessions")
    screen = terminal.wait_for(r"Open one with /open", "the list")
    listing = screen.rsplit("/sessions", 1)[1]
    assert re.search(rf"^\*\s*\d+\s+{third['id']}\s+\d{{4}}-\d\d-\d\d \d\d:\d\d\s+third {tag}", listing, re.M), listing
    assert re.search(rf"^\s+\d+\s+{first['id']}\s+.*first {tag}", listing, re.M), listing

    # /open continues the first conversation and shows its last messages.
    terminal.type(f"/open {first['id']}")
    screen = terminal.wait_for(r"Your next message continues this conversation", "/open's answer")
    opened = screen.rsplit(f"/open {first['id']}", 1)[1]
    assert f"Echo: second {tag}" in opened and f"> second {tag}" in opened
    terminal.type(f"fourth {tag}")
    terminal.wait_for(lambda s: f"Echo: fourth {tag}" in s and last_line(s) == ">", "the fourth reply")
    assert len(session_titled(kaiwa, f"first {tag}")["messages"]) == 6
    assert len(sessions(kaiwa)) == before + 2


def test_session_option_continues_a_conversation(kaiwa, open_terminal):
    tag = token()
    body = json.dumps({"message": f"seed {tag}"}).encode()
    request = urllib.request.Request(kaiwa.url + "chat", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        session_id = json.loads(response.read())["session_id"]

    terminal = open_terminal(kaiwa, "--session", session_id)
    screen = terminal.screen()
    assert f"> seed {tag}" in screen and f"Echo: seed {tag}" in screen
    terminal.type(f"more {tag}")
    terminal.wait_for(lambda s: f"Echo: more {tag}" in s and last_line(s) == ">", "the reply")
    assert len(api(kaiwa, f"api/sessions/{session_id}")["messages"]) == 4

    result = subprocess.run([chat_binary(), "chat", "--url", kaiwa.url, "--session", f"missing-{tag}"], input="",
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"missing-{tag}" in result.stderr, result.stderr


def test_tool_calls_show_as_one_line_each(kaiwa, open_terminal):
    terminal = open_terminal(kaiwa)
    terminal.type("please [tool]")
    screen = terminal.wait_for(lambda s: "The sum is 5." in s and last_line(s) == ">", "the reply after the tools")
    assert re.search(r'^⚙ calc_add \{"a":2,"b":3\}$', screen, re.M), screen
    assert re.search(r"^⚙ calc_missing", screen, re.M), screen
    assert re.search(r"^  ↳ calc_missing: failed: ", screen, re.M), screen


def test_quit_and_end_of_input_exit(kaiwa, open_terminal):
    terminal = open_terminal(kaiwa)
    terminal.type("/quit")
    terminal.wait_for(lambda s: terminal.exited() is not None, "the program to exit", timeout=10)
    assert terminal.exited() == 0

    terminal = open_terminal(kaiwa)
    terminal.press("C-d")
    terminal.wait_for(lambda s: terminal.exited() is not None, "the program to exit", timeout=10)
    assert terminal.exited() == 0


def test_the_model_option_goes_with_each_message(kaiwa, open_terminal):
    terminal = open_terminal(kaiwa, "--model", "openai:fake-model")
    tag = token()
    terminal.type(f"which model {tag} [model]")
    terminal.wait_for(lambda s: "Model: fake-model" in s and last_line(s) == ">", "the reply")
    if "models" not in api(kaiwa, "health"):
        pytest.skip("this server knows no model catalogue (and ignores `model`)")
    # A model the server does not know: its message is shown, and the program goes on.
    terminal = open_terminal(kaiwa, "--model", f"no-such-model-{tag}")
    terminal.type(f"unknown model {tag}")
    screen = terminal.wait_for(lambda s: "Error: " in s and last_line(s) == ">", "the server's refusal")
    assert re.search(rf'^Error: There is no model named "no-such-model-{tag}"', screen, re.M), screen
    assert terminal.exited() is None


def test_an_unreachable_server_is_named_and_fails(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    result = subprocess.run([chat_binary(), "chat", "--url", url], input="", capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert url in result.stderr and "connection refused" in result.stderr, result.stderr
    assert time.monotonic() - started < 5


def test_output_that_is_not_a_terminal_is_plain_text(kaiwa):
    tag = token()
    result = subprocess.run([chat_binary(), "chat", "--url", kaiwa.url], input=f"plain {tag} **bold**\n",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"Echo: plain {tag} **bold**" in result.stdout
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr


@pytest.fixture(scope="module")
def keyed_kaiwa(fake_model, tmp_path_factory):
    server = KaiwaServer(tmp_path_factory.mktemp("kaiwa-chat-keys"), fake_model.base_url, name="keyed",
                         extra_env={"KAIWA_AUTH_MODE": "api-key"}).start()
    yield server
    server.stop()


def test_the_api_key_comes_from_kaiwa_api_key(keyed_kaiwa, open_terminal):
    key = keyed_kaiwa.create_api_key("erin")
    tag = token()
    terminal = open_terminal(keyed_kaiwa, env={"KAIWA_API_KEY": key})
    terminal.type(f"with a key {tag}")
    terminal.wait_for(lambda s: f"Echo: with a key {tag}" in s and last_line(s) == ">", "the reply")
    assert session_titled(keyed_kaiwa, f"with a key {tag}", key)["messages"][-1]["status"] == "complete"

    # Without the key, the server's message is shown and the program goes on.
    terminal = open_terminal(keyed_kaiwa, env={"KAIWA_API_KEY": ""})
    terminal.type("no key")
    screen = terminal.wait_for(lambda s: "Error: " in s and last_line(s) == ">", "the server's refusal")
    assert re.search(r"^Error: \S.*", screen.rsplit("no key", 1)[1], re.M)
    assert terminal.exited() is None
