"""Fixtures of the API tests: fake OpenAI-compatible upstreams, real Kaiwa servers in front of
them, and clients of OpenAI's official Python SDK pointed at Kaiwa's `/v1`."""

import json

import openai
import pytest

from fake_upstream import FakeUpstream, closed_port_url
from api_server import api_server, catalogue

# Short model timeouts, so that failures show in seconds: a model must begin within 3 s, a
# refused connection is noticed within 1 s, and a failed call is not retried (fallbacks are).
QUICK_FAILURES = {
    "KAIWA_MODEL_FIRST_TOKEN_TIMEOUT": "3",
    "KAIWA_MODEL_CONNECT_TIMEOUT": "1",
    "KAIWA_MODEL_MAX_ATTEMPTS": "1",
}


@pytest.fixture(scope="session")
def upstream_a():
    fake = FakeUpstream("A").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def upstream_b():
    fake = FakeUpstream("B").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def kaiwa(upstream_a, upstream_b, tmp_path_factory):
    """Kaiwa with the whole catalogue: `primary` (A, falls back to `secondary`), `secondary`
    (B), `down` (refused, falls back to `secondary`), `offline` (refused, no fallback), `bot`."""
    models = catalogue(upstream_a.base_url, upstream_b.base_url, closed_port_url())
    server = api_server(tmp_path_factory.mktemp("kaiwa"), models=models, extra_env=QUICK_FAILURES).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def healthy_kaiwa(upstream_a, upstream_b, tmp_path_factory):
    """Kaiwa whose every model answers (`primary`, `secondary`, `bot`): what schemathesis
    explores, where any 5xx is a defect."""
    models = catalogue(upstream_a.base_url, upstream_b.base_url)
    server = api_server(tmp_path_factory.mktemp("healthy"), name="healthy", models=models, extra_env=QUICK_FAILURES).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_kaiwa(upstream_a, upstream_b, tmp_path_factory):
    """Kaiwa that wants an API key (`auth.mode=api-key`); the users `hasty` and `eager` may
    send 2 requests a minute each, `frugal` may use 10 model tokens a day."""
    workdir = tmp_path_factory.mktemp("auth")
    limits = workdir / "limits.json"
    limits.write_text(json.dumps({"users": {
        "hasty": {"requests_per_minute": 2},
        "eager": {"requests_per_minute": 2},
        "frugal": {"tokens_per_day": 10},
    }}))
    server = api_server(
        workdir, name="auth", models=catalogue(upstream_a.base_url, upstream_b.base_url),
        extra_env={**QUICK_FAILURES, "KAIWA_AUTH_MODE": "api-key", "KAIWA_LIMITS_PATH": str(limits)},
    ).start()
    yield server
    server.stop()


def sdk_client(server, api_key="unused"):
    """OpenAI's client for `server`, without the SDK's own retries (they would hide the errors
    under test and wait out every Retry-After)."""
    return openai.OpenAI(base_url=server.url + "v1", api_key=api_key, max_retries=0, timeout=30)


@pytest.fixture
def client(kaiwa):
    return sdk_client(kaiwa)
