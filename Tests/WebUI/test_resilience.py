"""When things go wrong: expired sessions, failing or slow models, broken connections,
reloads in the middle of a reply. Messages follow seed 001 §4.3."""

import time

import pytest

from chat_page import ChatPage
from dropping_proxy import DroppingProxy


@pytest.fixture
def strict_page(browser, strict_kaiwa):
    return ChatPage(browser, strict_kaiwa.url).open()


def test_expired_session_starts_a_new_one_and_gives_back_the_unsent_text(strict_page, strict_kaiwa):
    page = strict_page
    page.send("hello")
    page.wait_for_replies(1)
    expired = page.session_id()
    time.sleep(4.5)  # the server's idle timeout is 3 s

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


def test_dropped_stream_reconnects_and_resumes_without_repeating_text(browser, kaiwa):
    proxy = DroppingProxy(kaiwa.port).start()
    try:
        page = ChatPage(browser, proxy.url).open()
        page.send("[slow 60 100] keep going")
        page.wait(lambda d: "w5" in (page.reply_text() or ""))
        assert page.is_busy()

        assert proxy.drop_connections() > 0

        page.wait_for_replies(1)
        assert page.reply_text().split() == [f"w{i}" for i in range(1, 61)]
        assert page.find_all(".reply .reply-status-error") == []
        assert not page.find(".reply .reply-status").is_displayed()
        assert kaiwa.requests_to(f"/api/sessions/{page.session_id()}/stream") >= 1, "the page resumed the stream"
    finally:
        proxy.stop()


def test_reload_during_a_reply_resumes_it(page, kaiwa):
    page.send("[slow 60 100] survive a reload")
    page.wait(lambda d: "w5" in (page.reply_text() or ""))
    session = page.session_id()

    page.reload()

    assert page.session_id() == session
    page.wait(lambda d: page.user_messages() == ["[slow 60 100] survive a reload"])
    page.wait(lambda d: page.is_busy(), message="the running reply is followed again")
    page.wait_for_replies(1)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 61)]
    assert kaiwa.requests_to(f"/api/sessions/{session}/stream") == 1

    page.reload()
    page.wait(lambda d: page.reply_text() is not None)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 61)]
    assert len(page.replies()) == 1
