"""OpenAI's official Python SDK talking to Kaiwa's `/v1`, as people's existing clients do:
completions plain and streamed, client-side tools, agents as models, the model list."""

import json
import urllib.request

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_a_completion_answers_with_the_models_text_and_usage(client, upstream_a):
    completion = client.chat.completions.create(
        model="primary", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
    )

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "primary"
    choice = completion.choices[0]
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert choice.message.role == "assistant"
    assert choice.message.content == "Echo from A: Hello"
    assert choice.message.tool_calls is None
    usage = completion.usage
    assert usage.prompt_tokens == 12 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    sent = upstream_a.requests[-1]
    assert sent["model"] == "fake-a", "the upstream is asked for its own model id"
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}


def test_a_streamed_completion_arrives_in_chunks_that_join_into_the_answer_then_usage(client):
    stream = client.chat.completions.create(
        model="primary", messages=[{"role": "user", "content": "Hello there, streaming friend"}],
        stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert all(chunk.object == "chat.completion.chunk" and chunk.model == "primary" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1, "every chunk belongs to one completion"
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "Echo from A: Hello there, streaming friend"
    assert len([chunk for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]) > 1, "the text came in pieces"
    finish = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert finish == ["stop"]
    last = chunks[-1]
    assert last.choices == [], "the usage chunk has no choices"
    assert last.usage.prompt_tokens == 12 and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens


def test_a_streamed_completion_without_include_usage_sends_no_usage_chunk(client):
    chunks = list(client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "Hi"}], stream=True))

    assert all(chunk.usage is None for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_client_side_tool_call_comes_back_and_its_result_gets_a_final_answer(client, upstream_a):
    messages = [{"role": "user", "content": "What is the weather in Tokyo? [call weather]"}]

    first = client.chat.completions.create(model="primary", messages=messages, tools=[WEATHER_TOOL])

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Tokyo"}
    assert upstream_a.requests[-1]["tools"][0]["function"]["name"] == "get_weather", "the client's tools reach the model"

    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump(exclude_none=True)]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21°C"},
    ]
    final = client.chat.completions.create(model="primary", messages=messages, tools=[WEATHER_TOOL])

    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "The tool said: Sunny, 21°C"
    sent = upstream_a.requests[-1]["messages"]
    assert sent[-1] == {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21°C"}
    assert sent[-2]["tool_calls"][0]["id"] == call.id


def test_a_streamed_tool_call_arrives_as_deltas_the_client_can_assemble(client):
    chunks = list(client.chat.completions.create(
        model="primary", messages=[{"role": "user", "content": "Weather? [call weather]"}], tools=[WEATHER_TOOL], stream=True,
    ))

    calls = {}
    for chunk in chunks:
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
            call["id"] = delta.id or call["id"]
            call["name"] += (delta.function.name or "") if delta.function else ""
            call["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert list(calls) == [0]
    assert calls[0]["id"] and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Tokyo"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_an_agent_model_runs_its_server_side_tool_and_answers_with_the_result(client, upstream_a):
    completion = client.chat.completions.create(
        model="agent:calculator", messages=[{"role": "user", "content": "What is 1234 + 4321? [call calc]"}],
    )

    message = completion.choices[0].message
    assert "5555" in message.content, "the MCP tool calc_add added the numbers on the server"
    assert message.tool_calls is None, "the agent's own tool calls stay on the server"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "agent:calculator"
    assert completion.usage.total_tokens > 0
    offered = [tool["function"]["name"] for tool in upstream_a.requests[-2].get("tools", [])]
    assert "calc_add" in offered, "the agent offered its tool to the model"


def test_an_agent_model_streams_its_answer_too(client):
    chunks = list(client.chat.completions.create(
        model="agent:calculator", messages=[{"role": "user", "content": "Add them [call calc]"}], stream=True,
        stream_options={"include_usage": True},
    ))

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert "5555" in text
    assert not any(chunk.choices and chunk.choices[0].delta.tool_calls for chunk in chunks)
    assert chunks[-1].usage.total_tokens > 0


def test_the_model_list_names_the_catalogue_and_every_agent(client):
    models = client.models.list()

    ids = [model.id for model in models]
    assert ids == ["primary", "secondary", "bot", "down", "offline", "agent:assistant", "agent:calculator"]
    assert all(model.object == "model" and model.owned_by == "kaiwa" for model in models)


def test_sampling_options_reach_the_upstream(client, upstream_a):
    client.chat.completions.create(
        model="primary", messages=[{"role": "developer", "content": "Answer in English."}, {"role": "user", "content": "Hi"}],
        temperature=0.2, top_p=0.9, max_completion_tokens=50, stop=["END"], user="someone", seed=7,
    )

    sent = upstream_a.requests[-1]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"], sent["stop"]) == (0.2, 0.9, 50, ["END"])
    assert sent["messages"][0] == {"role": "system", "content": "Answer in English."}, "developer messages are the system prompt"


def test_text_parts_are_read_as_the_message(client):
    completion = client.chat.completions.create(
        model="primary", messages=[{"role": "user", "content": [{"type": "text", "text": "one "}, {"type": "text", "text": "two"}]}],
    )

    assert completion.choices[0].message.content == "Echo from A: one two"


def test_completions_are_not_stored_as_conversations(client, kaiwa):
    def sessions():
        with urllib.request.urlopen(kaiwa.url + "api/sessions?limit=200", timeout=10) as response:
            return json.loads(response.read())["sessions"]

    before = sessions()
    client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "Remember nothing"}])

    assert sessions() == before
