"""Starts a real Kaiwa server for the browser tests: the binary from KAIWA_BIN, the web page
from this repository's `web/`, the fake model server, agent profiles with suggested prompts,
and the test MCP server's tools (`calc_add`); on request, a model catalogue."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

AGENTS = {
    "default": "assistant",
    "agents": [
        {
            "name": "assistant",
            "display_name": "Assistant",
            "system_prompt": "You are Kaiwa, a helpful assistant.",
            "tools": ["calc_add"],
            "suggested_prompts": ["Tell me something nice", "Show me some Markdown"],
        },
        {
            "name": "events",
            "display_name": "Event finder",
            "system_prompt": "You find tech events.",
            "suggested_prompts": ["TypeScriptのカンファレンスある？", "面白そうなイベント教えて"],
        },
    ],
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class KaiwaServer:
    """`model_base_url`, the fake model server, is the one model (KAIWA_MODEL); `models`, a
    model catalogue (`{"default", "models": [...]}`), is written to a file that
    KAIWA_MODELS_PATH names instead. `agents` replaces the agents file's content (AGENTS).
    The API and terminal tests start their servers with this class too."""

    def __init__(self, workdir, model_base_url=None, name="kaiwa", extra_env=None, agents=None, models=None):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = self.workdir / f"{name}.log"
        agents_path = self.workdir / f"{name}-agents.json"
        agents_path.write_text(json.dumps(AGENTS if agents is None else agents))
        model = {}
        if models is not None:
            models_path = self.workdir / f"{name}-models.json"
            models_path.write_text(json.dumps(models))
            model = {"KAIWA_MODELS_PATH": str(models_path)}
        elif model_base_url is not None:
            model = {"KAIWA_MODEL": "openai:fake-model", "KAIWA_OPENAI_BASE_URL": model_base_url}
        mcp_path = self.workdir / f"{name}-mcp.json"
        mcp_server = os.environ.get("KAIWA_TEST_MCP_SERVER", str(REPO / ".build/debug/kaiwa-test-mcp-server"))
        mcp_path.write_text(json.dumps({"mcpServers": {"calc": {"command": str(Path(mcp_server).resolve()), "args": []}}}))
        self.env = {
            **os.environ,
            "KAIWA_HOST": "127.0.0.1",
            "KAIWA_PORT": str(self.port),
            "KAIWA_STORE": "sqlite",
            "KAIWA_SQLITE_PATH": str(self.workdir / f"{name}.sqlite"),
            "KAIWA_WEB_ROOT": str(REPO / "web"),
            "KAIWA_AGENTS_PATH": str(agents_path),
            "KAIWA_MCP_CONFIG": str(mcp_path),
            "KAIWA_LOG_LEVEL": "info",
            # The fake model would answer a title request like any message (holds, tools, …);
            # the tests that want model-written titles turn them on.
            "KAIWA_TITLES_FROM_MODEL": "false",
            **model,
            **(extra_env or {}),
        }
        self.process = None

    @staticmethod
    def binary():
        return str(Path(os.environ.get("KAIWA_BIN", str(REPO / ".build/debug/kaiwa"))).resolve())

    def start(self, timeout=60):
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen([self.binary(), "serve"], env=self.env, cwd=self.workdir,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kaiwa exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"kaiwa did not become healthy:\n{self.log_path.read_text()}")

    def restart(self):
        """Stops the server and starts it again on the same port and store (what it kept in
        memory, such as verified tokens, is gone)."""
        self.stop()
        return self.start()

    def keys(self, *arguments):
        """Runs `kaiwa keys …` against this server's store; returns what it printed."""
        result = subprocess.run([self.binary(), "keys", *arguments], env=self.env, cwd=self.workdir,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"kaiwa keys {' '.join(arguments)} failed:\n{result.stderr}"
        return result.stdout

    def create_api_key(self, user, name="test"):
        """A new API key for `user` (printed once, on its own line)."""
        output = self.keys("create", "--user", user, "--name", name)
        return next(line.strip() for line in output.splitlines() if line.strip().startswith("kw_"))

    def revoke_api_keys(self, user):
        """Revokes every key of `user`."""
        rows = [line.split("\t") for line in self.keys("list", "--user", user).splitlines()[1:] if line.strip()]
        for row in rows:
            self.keys("revoke", row[0])
        return len(rows)

    def log_text(self):
        """What the server has logged so far."""
        self.log.flush()
        return self.log_path.read_text()

    def requests_to(self, path):
        """How many requests for `path` the server has logged."""
        return self.log_text().count(f"path={path} ")

    def get_json(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()
