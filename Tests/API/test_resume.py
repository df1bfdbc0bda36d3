"""Resuming a reply's event stream (`GET /api/sessions/{id}/stream`) as a client that lost
its connection does: what schemathesis' stateful phase found."""

import json
import time
import urllib.request

import pytest


def post_chat(server, message):
    request = urllib.request.Request(server.url + "chat", data=json.dumps({"message": message}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def resume(server, session_id, last_event_id, timeout=5):
    """The events sent after `last_event_id` and how long the stream took to end."""
    started = time.monotonic()
    request = urllib.request.Request(server.url + f"api/sessions/{session_id}/stream", headers={"Last-Event-ID": str(last_event_id)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode()
    except TimeoutError:
        pytest.fail(f"the resumed stream after event {last_event_id} did not end within {timeout} s")
    ids = [int(line.removeprefix("id: ")) for line in body.splitlines() if line.startswith("id: ")]
    return ids, time.monotonic() - started


def test_resuming_a_finished_reply_replays_the_events_after_the_last_one_seen(healthy_kaiwa):
    session_id = post_chat(healthy_kaiwa, "Tell me something")["session_id"]
    time.sleep(1)  # a moment later, the finished reply is read back from the store (as on another instance)
    every, _ = resume(healthy_kaiwa, session_id, 0)

    assert every[0] == 1 and every == list(range(1, len(every) + 1))
    assert resume(healthy_kaiwa, session_id, 2)[0] == every[2:]


def test_resuming_after_the_last_event_of_a_finished_reply_ends_at_once(healthy_kaiwa):
    session_id = post_chat(healthy_kaiwa, "Tell me something else")["session_id"]
    time.sleep(1)  # a moment later, the finished reply is read back from the store (as on another instance)
    every, _ = resume(healthy_kaiwa, session_id, 0)

    ids, seconds = resume(healthy_kaiwa, session_id, every[-1])

    assert ids == [], "nothing is left to send"
    assert seconds < 2, "the stream ends: the client has seen the reply's last event"
