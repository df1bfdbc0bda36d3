"""The Kaiwa server of the API tests: Tests/WebUI's KaiwaServer (the binary from KAIWA_BIN,
this repository's `web/`, the test MCP server's `calc_add`) with these tests' agent profiles
and a model catalogue whose models point at fake upstreams."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests" / "WebUI"))

import kaiwa_server as web  # noqa: E402

AGENTS = {
    "default": "assistant",
    "agents": [
        {
            "name": "assistant",
            "display_name": "Assistant",
            "system_prompt": "You are Kaiwa, a helpful assistant.",
            "suggested_prompts": ["Hello"],
        },
        {
            "name": "calculator",
            "display_name": "Calculator",
            "system_prompt": "You add numbers with calc_add.",
            "tools": ["calc_add"],
        },
    ],
}


def catalogue(upstream_a, upstream_b, closed_url=None):
    """`primary` (upstream A, falls back to `secondary`), `secondary` (upstream B), `bot` (the
    offline rules model) and, with `closed_url`, `down` (nothing listens; falls back to
    `secondary`) and `offline` (nothing listens, no fallback)."""
    models = [
        {"name": "primary", "provider": "openai", "model": "fake-a", "base_url": upstream_a, "context_window": 32000,
         "price": {"input_per_million": 1.5, "output_per_million": 6}, "fallbacks": ["secondary"]},
        {"name": "secondary", "provider": "openai", "model": "fake-b", "base_url": upstream_b},
        {"name": "bot", "provider": "rules"},
    ]
    if closed_url:
        models += [
            {"name": "down", "provider": "openai", "model": "fake-down", "base_url": closed_url, "fallbacks": ["secondary"]},
            {"name": "offline", "provider": "openai", "model": "fake-offline", "base_url": closed_url},
        ]
    return {"default": "primary", "models": models}


def api_server(workdir, name="kaiwa", models=None, extra_env=None):
    """A Kaiwa server (not started) with AGENTS and the catalogue `models`."""
    return web.KaiwaServer(workdir, name=name, agents=AGENTS, models=models, extra_env=extra_env)
