"""Kaiwa's `/v1` errors as OpenAI's SDK sees them (each status raises its exception class,
with OpenAI's `{"error": {message, type, param, code}}` read into it), and fallbacks: a
model that fails before its first token is replaced by the next in its list."""

import time

import openai
import pytest

from conftest import sdk_client

HELLO = [{"role": "user", "content": "Hello"}]


def test_asking_for_two_choices_is_a_bad_request(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="primary", messages=HELLO, n=2)

    error = raised.value
    assert error.status_code == 400
    assert (error.type, error.param) == ("invalid_request_error", "n")
    assert "n" in error.message


@pytest.mark.parametrize("options, param", [
    ({"temperature": 3}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"messages": [{"role": "robot", "content": "beep"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": "Hi"}, {"role": "tool", "tool_call_id": "call_9", "content": "42"}]}, "messages[1].tool_call_id"),
    ({"messages": []}, "messages"),
], ids=["temperature", "top_p", "max_tokens", "five stops", "required tool without tools", "unknown role", "unanswered tool result", "no messages"])
def test_a_value_out_of_range_is_a_bad_request_naming_the_field(client, options, param):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(**{"model": "primary", "messages": HELLO, **options})

    assert raised.value.param == param


def test_an_image_part_is_a_bad_request_naming_the_part(client):
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}

    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="primary", messages=[{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}])

    assert raised.value.param == "messages[0].content[1]"
    assert raised.value.type == "invalid_request_error"


def test_client_tools_for_an_agent_model_are_a_bad_request(client):
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}

    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="agent:calculator", messages=HELLO, tools=[tool])

    assert raised.value.param == "tools"


def test_an_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="no-such-model", messages=HELLO)

    error = raised.value
    assert (error.status_code, error.code, error.param) == (404, "model_not_found", "model")
    assert "no-such-model" in error.message and "primary" in error.message, "the message names the known models"


def test_an_unknown_agent_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="agent:nobody", messages=HELLO)

    assert raised.value.code == "model_not_found"


def test_a_wrong_api_key_is_refused_as_unauthenticated(auth_kaiwa):
    with pytest.raises(openai.AuthenticationError) as raised:
        sdk_client(auth_kaiwa, api_key="kw_not-a-real-key").chat.completions.create(model="primary", messages=HELLO)

    error = raised.value
    assert (error.status_code, error.code) == (401, "invalid_api_key")
    assert error.response.headers["www-authenticate"].startswith("Bearer")
    assert "kw_not-a-real-key" not in error.response.text, "the key is not repeated back"


def test_a_valid_api_key_gets_completions_and_models(auth_kaiwa):
    client = sdk_client(auth_kaiwa, api_key=auth_kaiwa.create_api_key("sdk-user"))

    assert client.chat.completions.create(model="primary", messages=HELLO).choices[0].message.content == "Echo from A: Hello"
    assert "primary" in [model.id for model in client.models.list()]


def test_the_key_also_works_in_the_x_api_key_header(auth_kaiwa):
    key = auth_kaiwa.create_api_key("header-user")
    client = sdk_client(auth_kaiwa, api_key="unused")

    models = client.models.list(extra_headers={"Authorization": openai.Omit(), "X-API-Key": key})

    assert "primary" in [model.id for model in models]


def test_too_many_requests_raise_a_rate_limit_error_saying_when_to_retry(auth_kaiwa):
    client = sdk_client(auth_kaiwa, api_key=auth_kaiwa.create_api_key("hasty"))
    client.models.list()
    client.models.list()  # `hasty` may send 2 requests a minute

    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="primary", messages=HELLO)

    error = raised.value
    assert (error.status_code, error.code, error.type) == (429, "rate_limit_exceeded", "requests")
    assert 1 <= int(error.response.headers["retry-after"]) <= 60


def test_tokens_used_through_v1_count_toward_the_daily_quota(auth_kaiwa):
    client = sdk_client(auth_kaiwa, api_key=auth_kaiwa.create_api_key("frugal"))
    client.chat.completions.create(model="primary", messages=HELLO)  # 16 tokens; `frugal` may use 10 a day

    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="primary", messages=HELLO)

    error = raised.value
    assert (error.code, error.type) == ("insufficient_quota", "insufficient_quota")
    assert 1 <= int(error.response.headers["retry-after"]) <= 24 * 3600, "until midnight UTC"


def test_a_model_that_cannot_be_reached_and_has_no_fallback_is_unavailable(client):
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="offline", messages=HELLO)

    error = raised.value
    assert (error.status_code, error.code, error.type) == (503, "service_unavailable", "server_error")


def test_a_streamed_completion_whose_model_cannot_be_reached_fails_before_any_chunk(client):
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="offline", messages=HELLO, stream=True)

    assert raised.value.status_code == 503


def test_a_model_that_does_not_begin_in_time_is_a_timeout(client):
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="secondary", messages=[{"role": "user", "content": "Think hard [hang]"}])

    error = raised.value
    assert (error.status_code, error.code, error.type) == (504, "model_timeout", "timeout")
    assert time.monotonic() - started < 15, "the first-token timeout (3 s) ended it"


def test_a_streamed_completion_whose_model_does_not_begin_in_time_is_a_timeout(client):
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="secondary", messages=[{"role": "user", "content": "[hang]"}], stream=True)

    assert raised.value.status_code == 504


def test_a_throttled_model_falls_back_and_the_reply_names_the_fallback(client, upstream_a, upstream_b):
    with upstream_a.answer_with(429):
        completion = client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "Are you busy?"}])

    assert completion.model == "secondary"
    assert completion.choices[0].message.content == "Echo from B: Are you busy?"
    assert upstream_b.requests[-1]["model"] == "fake-b"


def test_a_failing_model_falls_back_in_a_stream_too(client, upstream_a):
    with upstream_a.answer_with(500):
        chunks = list(client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "Still there?"}], stream=True))

    assert {chunk.model for chunk in chunks} == {"secondary"}, "every chunk names the model that answered"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == "Echo from B: Still there?"


def test_a_model_that_is_down_falls_back(client):
    completion = client.chat.completions.create(model="down", messages=[{"role": "user", "content": "Anyone?"}])

    assert completion.model == "secondary"
    assert completion.choices[0].message.content == "Echo from B: Anyone?"


def test_a_failing_model_without_fallback_is_unavailable(client, upstream_b):
    with upstream_b.answer_with(500), pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="secondary", messages=HELLO)

    assert raised.value.status_code == 503
