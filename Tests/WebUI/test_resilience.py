"""When things go wrong: expired sessions, failing or slow models, broken connections,
reloads in the middle of a reply. Messages follow seed 001 §4.3."""

from datetime import datetime

import pytest
from selenium.webdriver.common.keys import Keys

from chat_page import ChatPage


@pytest.fixture
def strict_page(browser, strict_kaiwa):
    return ChatPage(browser, strict_kaiwa.url).open()


def test_expired_session_starts_a_new_one_and_gives_back_the_unsent_text(strict_page, strict_kaiwa):
    page = strict_page
    page.send("hello")
    page.wait_for_replies(1)
    expired = page.session_id()
    # The server's idle timeout is 3 s from the session's last update, by the server's clock.
    updated = strict_kaiwa.get_json(f"api/sessions/{expired}")["updated_at"]
    page.wait(lambda d: seconds_since(updated, strict_kaiwa) > 3.5, message="the session did not go idle")

    page.send("are you still there?")

    page.wait(lambda d: page.find_all("#messages .notice"))
    assert page.find("#messages .notice").text == (
        "Your session timed out, so a new one has started. Your message is back in the box: send it again.")
    assert page.input.get_attribute("value") == "are you still there?"
    assert page.session_id() != expired
    assert page.user_messages() == []
    page.screenshot("error-session-expired")

    page.input.send_keys("\n")
    page.wait_for_replies(1)
    assert page.reply_text() == "Echo: are you still there?"
    assert strict_kaiwa.get_json(f"api/sessions/{page.session_id()}")["messages"][0]["text"] == "are you still there?"


def test_model_failure_says_the_service_is_temporarily_unavailable(strict_page):
    page = strict_page
    page.send("[fail] please")
    page.wait_for_replies(1)
    error = page.find(".reply .reply-status-error")
    assert error.text == "The service is temporarily unavailable. Please try again in a moment."
    assert error.get_attribute("role") == "alert"
    page.screenshot("error-unavailable")


def test_model_timeout_says_the_connection_timed_out(strict_page):
    page = strict_page
    page.send("[hang] please")
    page.wait_for_replies(1)
    assert page.find(".reply .reply-status-error").text == "The connection timed out. Please try again."


def test_dropped_stream_reconnects_and_resumes_without_repeating_text(proxied_page, proxy, kaiwa, fake_model):
    page = proxied_page
    hold = fake_model.new_hold()
    page.send(f"[slow 60 10] [hold {hold} 5] keep going")
    fake_model.wait_until_held(hold)
    page.wait(lambda d: (page.reply_text() or "").split() == [f"w{i}" for i in range(1, 6)])
    session = page.session_id()

    # Cut while the model waits at its hold: the reply is surely unfinished.
    assert proxy.drop_connections() > 0
    page.wait(lambda d: kaiwa.requests_to(f"/api/sessions/{session}/stream") >= 1, message="the page did not resume")
    assert fake_model.is_held(hold), "the stream was cut in the middle of the reply"
    assert page.is_busy()

    fake_model.release(hold)
    page.wait_for_replies(1)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 61)]
    assert page.find_all(".reply .reply-status-error") == []
    assert not page.find(".reply .reply-status").is_displayed()


def test_resume_answered_503_by_a_proxy_is_tried_again(proxied_page, proxy, kaiwa, fake_model):
    page = proxied_page
    hold = fake_model.new_hold()
    page.send(f"[slow 20 10] [hold {hold} 5] through a busy proxy")
    fake_model.wait_until_held(hold)
    page.wait(lambda d: "w5" in (page.reply_text() or ""))
    session = page.session_id()
    busy = proxy.fault_next(f"GET /api/sessions/{session}/stream", "answer", status=503)

    assert proxy.drop_connections() > 0
    busy.wait_arrived()
    page.wait(lambda d: kaiwa.requests_to(f"/api/sessions/{session}/stream") >= 1, message="no second try")
    fake_model.release(hold)
    page.wait_for_replies(1)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 21)]
    assert page.find_all(".reply .reply-status-error") == []


def test_reload_during_a_reply_resumes_it(page, kaiwa, fake_model):
    hold = fake_model.new_hold()
    message = f"[slow 60 10] [hold {hold} 5] survive a reload"
    page.send(message)
    fake_model.wait_until_held(hold)
    page.wait(lambda d: "w5" in (page.reply_text() or ""))
    session = page.session_id()

    page.reload()

    assert page.session_id() == session
    page.wait(lambda d: page.user_messages() == [message])
    page.wait(lambda d: page.is_busy(), message="the running reply is followed again")
    page.wait(lambda d: (page.reply_text() or "").split() == [f"w{i}" for i in range(1, 6)])
    assert fake_model.is_held(hold), "the reply was still running when the page came back"
    fake_model.release(hold)
    page.wait_for_replies(1)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 61)]
    assert kaiwa.requests_to(f"/api/sessions/{session}/stream") == 1

    page.reload()
    page.wait(lambda d: page.reply_text() is not None)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 61)]
    assert len(page.replies()) == 1


def test_a_503_answer_to_the_message_gives_the_text_back_and_says_the_service_is_unavailable(proxied_page, proxy):
    page = proxied_page
    proxy.fault_next("POST /chat/stream", "answer", status=503)
    page.send("are you there?")

    page.wait_for_replies(1)
    error = page.find(".reply .reply-status-error")
    assert error.text == "The service is temporarily unavailable. Please try again in a moment."
    assert error.get_attribute("role") == "alert"
    assert page.input.get_attribute("value") == "are you there?"
    page.wait(lambda d: page.announced() == "The reply failed.")


def test_a_message_whose_answer_was_lost_is_followed_not_sent_again(proxied_page, proxy, kaiwa, fake_model):
    page = proxied_page
    hold = fake_model.new_hold()
    # The server takes the message, but the connection breaks before its answer arrives.
    cut = proxy.fault_next("POST /chat/stream", "cut")
    message = f"[slow 8 10] [hold {hold} 2] lost answer"
    page.send(message)
    cut.wait_arrived()
    session = page.session_id()

    page.wait(lambda d: kaiwa.requests_to(f"/api/sessions/{session}/stream") == 1, message="the page did not look for the reply")
    fake_model.release(hold)
    page.wait_for_replies(1)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 9)]
    assert page.find_all(".reply .reply-status-error") == []
    assert page.input.get_attribute("value") == "", "the text is not given back: it was sent"
    stored = kaiwa.get_json(f"api/sessions/{session}")["messages"]
    assert [m["text"] for m in stored if m["role"] == "user"] == [message]


def test_a_message_that_never_reached_the_server_is_given_back(proxied_page, proxy, kaiwa):
    page = proxied_page
    page.send("the first message")
    page.wait_for_replies(1)
    session = page.session_id()

    # The session has a finished reply the server could still replay: it must not be taken
    # for the reply to a message the server never saw.
    proxy.fault_next("POST /chat/stream", "lose")
    page.send("the second message")
    page.wait(lambda d: page.find_all(".reply .reply-status-error"))
    assert page.find(".reply .reply-status-error").text == (
        "Could not reach the server. Check your connection and try again.")
    assert page.input.get_attribute("value") == "the second message"
    assert page.reply_text(0) == "Echo: the first message"
    assert page.reply_text(1) == ""
    stored = kaiwa.get_json(f"api/sessions/{session}")["messages"]
    assert [m["text"] for m in stored if m["role"] == "user"] == ["the first message"]

    # Sent again, it goes through (no 409: nothing is running).
    page.input.send_keys(Keys.ENTER)
    page.wait_for_replies(3)
    assert page.reply_text() == "Echo: the second message"


def test_reply_follower_skips_events_it_already_has_after_a_reconnect(page):
    result = page.driver.execute_async_script(FOLLOW_WITH_OVERLAP)
    assert isinstance(result, dict), result
    assert result["resumedAfter"] == [4]
    assert result["text"] == "abcdefg"
    assert result["seqs"] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert result["last"] == "done"


# The first stream breaks after event 4; the resumed one repeats 2–4 (as a server that
# resends a little too much would) before the rest.
FOLLOW_WITH_OVERLAP = """
const done = arguments[arguments.length - 1];
import('./ui/reply-stream.js').then(async ({ followReply }) => {
  const delta = (seq, text) => ({ type: 'delta', seq, text });
  async function* stream(events, breaks) {
    for (const event of events) yield event;
    if (breaks) throw new TypeError('network error');
  }
  const first = [{ type: 'session', seq: 1 }, delta(2, 'a'), delta(3, 'b'), delta(4, 'c')];
  const rest = [delta(2, 'a'), delta(3, 'b'), delta(4, 'c'), delta(5, 'd'), delta(6, 'e'),
                delta(7, 'f'), delta(8, 'g'), { type: 'done', seq: 9 }];
  const seen = [];
  const resumedAfter = [];
  const last = await followReply({
    open: async () => stream(first, true),
    resume: async (lastSeq) => { resumedAfter.push(lastSeq); return stream(rest, false); },
    onEvent: (event) => seen.push(event),
    signal: new AbortController().signal,
  });
  done({ resumedAfter, last: last.type, seqs: seen.map(e => e.seq),
         text: seen.filter(e => e.type === 'delta').map(e => e.text).join('') });
}).catch(error => done('failed: ' + error));
"""


def test_abort_listeners_are_let_go_after_each_request_and_retry(page, kaiwa):
    page.send("finished before the check")
    page.wait_for_replies(1)
    result = page.driver.execute_async_script(COUNT_LISTENERS, page.session_id())
    assert result == {"during": 1, "after": 0}, result


# Counts the abort listeners on a signal used for several requests and a reply followed
# through a failed reconnect: one while a stream is read, none once everything is over.
COUNT_LISTENERS = """
const [sessionId, done] = arguments;
Promise.all([import('./ui/api.js'), import('./ui/reply-stream.js')]).then(async ([api, { followReply }]) => {
  const controller = new AbortController();
  const signal = controller.signal;
  const listeners = new Set();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (type, listener, options) => { listeners.add(listener); add(type, listener, options); };
  signal.removeEventListener = (type, listener, options) => { listeners.delete(listener); remove(type, listener, options); };
  for (let i = 0; i < 3; i += 1) await api.getSession(sessionId, signal);
  await api.getSession('no-such-session', signal);
  let during = null;
  let failedOnce = false;
  await followReply({
    open: async () => (async function* () { throw new TypeError('cut'); })(),
    resume: async (lastSeq) => {
      if (!failedOnce) { failedOnce = true; throw new TypeError('still down'); }
      return api.resumeReply(sessionId, lastSeq, signal);
    },
    onEvent: () => { during ??= listeners.size; },
    signal,
  });
  done({ during, after: listeners.size });
}).catch(error => done('failed: ' + error));
"""


def seconds_since(iso_time, kaiwa):
    """Seconds from `iso_time` to now, by the server's clock (its /ping tells the time)."""
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (parse(kaiwa.get_json("ping")["timestamp"]) - parse(iso_time)).total_seconds()
