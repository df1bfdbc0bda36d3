"""OpenTelemetry traces: Kaiwa with `otel.endpoint` set sends its spans over OTLP/HTTP to a fake
collector, which decodes them with opentelemetry-proto. One reply with a tool call makes one
trace that continues the client's `traceparent`: the request, the reply (`invoke_agent`), its
model calls (`chat`) and its tool call (`execute_tool`) nested in that order with the GenAI
semantic conventions' attributes, store calls inside, the model server asked with the same
trace, and the request's log line carrying the trace id."""

import json
import secrets
import time
import urllib.request

import pytest

from api_server import api_server, catalogue
from fake_otlp import FakeOTLPReceiver

SERVER, INTERNAL, CLIENT = 2, 1, 3  # OTLP span kinds


@pytest.fixture(scope="module")
def collector():
    receiver = FakeOTLPReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def traced_kaiwa(upstream_a, upstream_b, collector, tmp_path_factory):
    server = api_server(
        tmp_path_factory.mktemp("traced"), name="traced", models=catalogue(upstream_a.base_url, upstream_b.base_url),
        # Spans are exported every 200 ms instead of every 5 s (the standard variable).
        extra_env={"KAIWA_OTEL_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "200"},
    ).start()
    yield server
    server.stop()


def wait_for(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    return condition()


def test_a_reply_with_a_tool_call_is_one_trace_under_the_clients(traced_kaiwa, collector, upstream_a):
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    upstream_requests_before = len(upstream_a.headers)
    request = urllib.request.Request(
        traced_kaiwa.url + "chat",
        data=json.dumps({"message": "[call calc_add] please", "agent": "calculator", "model": "primary"}).encode(),
        headers={"Content-Type": "application/json", "traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert "5555" in answer["response"], answer  # calc_add(1234, 4321) went through the tool

    def complete():
        spans = collector.trace(trace_id)
        names = [s.name for s in spans]
        return spans if "invoke_agent calculator" in names and any(s.kind == SERVER for s in spans) else None

    spans = wait_for(complete)
    assert spans, f"no spans of trace {trace_id}; received {collector.spans[:20]}"
    by_id = {s.span_id: s for s in spans}
    server = next(s for s in spans if s.kind == SERVER)
    assert server.parent_id == parent_id, "the request span does not continue the client's traceparent"
    assert server.name == "/chat" and server.attributes.get("http.response.status_code") == 200
    assert server.resource.get("service.name") == "kaiwa"

    agent = next(s for s in spans if s.name == "invoke_agent calculator")
    assert agent.parent_id == server.span_id
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.agent.name"] == "calculator"
    assert agent.attributes["gen_ai.conversation.id"] == answer["session_id"]

    chats = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "chat"]
    assert len(chats) == 2, f"two model calls (the tool call, then the answer): {chats}"
    for chat in chats:
        assert chat.parent_id == agent.span_id and chat.kind == CLIENT
        assert chat.attributes["gen_ai.request.model"] == "fake-a"
        assert chat.attributes["gen_ai.provider.name"] == "openai"
        assert chat.attributes["gen_ai.usage.input_tokens"] > 0
        assert chat.attributes["gen_ai.usage.output_tokens"] > 0
    assert sorted(c.attributes["gen_ai.response.finish_reasons"][0] for c in chats) == ["end_turn", "tool_use"]

    tool = next(s for s in spans if s.attributes.get("gen_ai.operation.name") == "execute_tool")
    assert tool.name == "execute_tool calc_add" and tool.parent_id == agent.span_id
    assert tool.attributes["gen_ai.tool.name"] == "calc_add" and tool.attributes["gen_ai.tool.call.id"]

    stores = [s for s in spans if s.attributes.get("db.system.name") == "sqlite"]
    assert stores, "no store spans"
    for store in stores:
        # Every store span hangs from the trace's own spans, not from nowhere.
        assert store.parent_id in by_id, store

    # The model server was asked with the same trace: its parent is the HTTP client's span
    # of the request, inside a model call's span.
    sent = [h.get("traceparent", "") for h in upstream_a.headers[upstream_requests_before:]]
    assert len(sent) == 2 and all(t.split("-")[1] == trace_id for t in sent), sent
    http_spans = [by_id.get(t.split("-")[2]) for t in sent]
    assert all(s is not None and s.kind == CLIENT and s.parent_id in {c.span_id for c in chats} for s in http_spans), http_spans

    # The request's log line carries the trace id.
    line = next(l for l in traced_kaiwa.log_text().splitlines() if "path=/chat " in l and "request" in l and trace_id in l)
    assert f"request_id=" in line


def test_a_trace_the_client_did_not_sample_sends_no_span_but_keeps_its_id_upstream(traced_kaiwa, collector, upstream_a):
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    before = len(upstream_a.headers)
    request = urllib.request.Request(
        traced_kaiwa.url + "chat",
        data=json.dumps({"message": "[call calc_add] please", "agent": "calculator", "model": "primary"}).encode(),
        headers={"Content-Type": "application/json", "traceparent": f"00-{trace_id}-{parent_id}-00"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert "5555" in json.loads(response.read())["response"]
    # A later, sampled request's spans arriving shows the exporter ran after this one.
    marker = secrets.token_hex(16)
    with urllib.request.urlopen(urllib.request.Request(traced_kaiwa.url + "health", headers={"traceparent": f"00-{marker}-{parent_id}-01"}), timeout=30):
        pass
    assert wait_for(lambda: collector.trace(marker)), "the sampled request's span never arrived"
    assert collector.trace(trace_id) == [], "spans of a trace the client did not sample were exported"
    # The model server still hears of the trace, as not sampled.
    sent = [h.get("traceparent", "") for h in upstream_a.headers[before:]]
    assert len(sent) == 2 and all(t.split("-")[1] == trace_id and t.endswith("-00") for t in sent), sent


def test_without_an_endpoint_no_span_is_made_and_traceparent_is_not_forwarded(kaiwa, upstream_a):
    before = len(upstream_a.headers)
    request = urllib.request.Request(
        kaiwa.url + "chat", data=json.dumps({"message": "hello", "model": "primary"}).encode(),
        headers={"Content-Type": "application/json", "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    assert all("traceparent" not in h for h in upstream_a.headers[before:])
