"""`GET /metrics` read with Prometheus's own text parser (prometheus-client) after real traffic:
a reply with a tool call, a streamed reply and a 404. Each counter an operator relies on is
there, with the labels and values that traffic must have made."""

import json
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api_server import api_server, catalogue


@pytest.fixture(scope="module")
def metered_kaiwa(upstream_a, upstream_b, tmp_path_factory):
    server = api_server(
        tmp_path_factory.mktemp("metered"), name="metered", models=catalogue(upstream_a.base_url, upstream_b.base_url),
        extra_env={"KAIWA_METRICS_ENABLED": "true", "KAIWA_METRICS_TOKEN": "scrape-me"},
    ).start()
    yield server
    server.stop()


def call(server, path, body=None, headers=None):
    request = urllib.request.Request(
        server.url + path.lstrip("/"), data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def samples(server):
    status, text = call(server, "/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert status == 200
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found, name, **labels):
    return sum(v for l, v in found.get(name, []) if all(l.get(k) == w for k, w in labels.items()))


def test_metrics_need_the_token(metered_kaiwa):
    assert call(metered_kaiwa, "/metrics")[0] == 401
    assert call(metered_kaiwa, "/metrics", headers={"Authorization": "Bearer wrong"})[0] == 401


def test_counters_after_real_traffic(metered_kaiwa):
    status, body = call(metered_kaiwa, "/chat", {"message": "[call calc_add]", "agent": "calculator", "model": "primary"})
    assert status == 200, body
    status, body = call(metered_kaiwa, "/chat/stream", {"message": "hello", "model": "primary"})
    assert status == 200 and '"type":"done"' in body, body[:500]
    assert call(metered_kaiwa, "/api/sessions/no-such-session")[0] == 404

    found = samples(metered_kaiwa)
    assert value(found, "kaiwa_http_requests_total", route="/chat", status="200", method="POST") >= 1
    assert value(found, "kaiwa_http_requests_total", route="/api/sessions/{id}", status="404") >= 1
    assert value(found, "kaiwa_http_request_duration_seconds_count", route="/chat") >= 1
    assert value(found, "kaiwa_replies_total", outcome="complete") >= 2
    assert value(found, "kaiwa_model_tokens_total", direction="input") > 0
    assert value(found, "kaiwa_model_tokens_total", direction="output") > 0
    assert value(found, "kaiwa_model_time_to_first_token_seconds_count") >= 1
    assert value(found, "kaiwa_tool_calls_total", tool="calc_add", outcome="ok") == 1
    assert value(found, "kaiwa_store_call_duration_seconds_count", operation="append_messages") >= 2
    # Streams opened and closed again: the gauge is back to zero.
    assert "kaiwa_streams_open" in found and value(found, "kaiwa_streams_open", transport="sse") == 0
