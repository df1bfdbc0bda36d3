"""Chatting: sending, streaming, stopping, Markdown, tool calls."""

import re

from selenium.webdriver.common.keys import Keys


def test_enter_sends_and_the_reply_streams_in_after_a_loading_indicator(page, fake_model):
    # The fake model waits at each hold until the test lets it go on, however slow the machine.
    before_first, after_three = fake_model.new_hold(), fake_model.new_hold()
    message = f"[slow 40 10] [hold {before_first} 0] [hold {after_three} 3] count for me"
    page.send(message)

    assert page.user_messages() == [message]
    assert page.input.get_attribute("value") == ""
    fake_model.wait_until_held(before_first)
    page.wait(lambda d: page.find(".reply .typing").is_displayed(), message="no typing indicator")
    assert page.is_busy()
    page.screenshot("chat-loading")

    # Part of the reply shows while the rest is still being written.
    fake_model.release(before_first)
    fake_model.wait_until_held(after_three)
    page.wait(lambda d: (page.reply_text() or "").split() == ["w1", "w2", "w3"])
    assert page.is_busy()
    assert not page.find(".reply .typing").is_displayed()
    assert page.find(".reply").get_attribute("aria-busy") == "true"
    page.screenshot("chat-streaming")

    fake_model.release(after_three)
    page.wait_for_replies(1)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 41)]
    assert not page.is_busy()


def test_model_name_and_token_usage_show_under_each_reply(page):
    page.send("hello there")
    page.wait_for_replies(1)
    page.send("and again")
    page.wait_for_replies(2)

    metas = [element.text for element in page.find_all(".reply .reply-meta")]
    assert len(metas) == 2
    for meta in metas:
        assert "openai:fake-model" in meta
        assert re.search(r"12 in · \d+ out tokens", meta), meta
    assert page.reply_text(0) == "Echo: hello there"
    assert page.reply_text(1) == "Echo: and again"


def test_shift_enter_makes_a_new_line_and_enter_sends(page):
    page.type("first line")
    page.input.send_keys(Keys.SHIFT, Keys.ENTER)
    page.type("second line")
    assert page.find_all("#messages .message") == []
    assert page.input.get_attribute("value") == "first line\nsecond line"

    page.input.send_keys(Keys.ENTER)
    page.wait_for_replies(1)
    assert page.user_messages() == ["first line\nsecond line"]


def test_stop_button_ends_a_running_reply_and_keeps_what_was_written(page, kaiwa, fake_model):
    hold = fake_model.new_hold()
    page.send(f"[slow 300 10] [hold {hold} 3] a long answer")
    fake_model.wait_until_held(hold)
    page.wait(lambda d: (page.reply_text() or "").split() == ["w1", "w2", "w3"])
    assert page.find("#send-button").get_attribute("hidden") is not None

    page.click("#stop-button")
    page.wait_for_replies(1)
    assert page.find(".reply .reply-status-stopped").text == "Stopped."
    assert page.find("#stop-button").get_attribute("hidden") is not None
    page.wait(lambda d: page.announced() == "The reply was stopped.")
    page.screenshot("chat-stopped")

    # The server stopped it (the model still waits at its hold): its `done` said so, and
    # carried what was stored, which is all the page shows.
    assert fake_model.is_held(hold)
    page.wait(lambda d: kaiwa.requests_to(f"/api/sessions/{page.session_id()}/stop") == 1)
    stored = kaiwa.get_json(f"api/sessions/{page.session_id()}")["messages"]
    assert stored[-1]["status"] == "partial"
    written = page.reply_text().split()
    assert written == stored[-1]["text"].split() == ["w1", "w2", "w3"]
    page.reload()
    page.wait(lambda d: page.find_all(".reply .reply-status-stopped"))
    assert page.find(".reply .reply-status-stopped").text == "This reply ended early."
    assert page.reply_text().split() == written


def test_markdown_is_rendered_with_safe_links_and_copyable_code(page):
    page.send("Show me some Markdown")
    page.wait_for_replies(1)
    reply = page.find(".reply .markdown")

    assert reply.find_element("css selector", "h2").text == "Markdown check"
    assert reply.find_element("css selector", "h3").text == "Lists"
    assert reply.find_element("css selector", "strong").text == "bold"
    assert reply.find_element("css selector", "em").text == "italic"
    assert reply.find_element("css selector", "del").text == "struck"
    assert reply.find_element("css selector", "p > code").text == "inline code"
    assert [li.text for li in reply.find_elements("css selector", "ul > li > ul > li")] == ["nested item"]
    assert [li.text for li in reply.find_elements("css selector", "ol > li")] == ["one", "two"]
    assert reply.find_element("css selector", "blockquote").text == "a quoted line"
    assert [th.text for th in reply.find_elements("css selector", "table th")] == ["Language", "Typing"]
    assert [td.text for td in reply.find_elements("css selector", "table td")] == ["Swift", "static", "Python", "dynamic"]
    assert reply.find_element("css selector", "table th:nth-child(2)").value_of_css_property("text-align") == "center"

    links = page.js("return [...document.querySelectorAll('.reply .markdown a')].map(a => [a.textContent, a.href, a.target, a.rel])")
    assert links == [
        ["safe link", "https://example.com/docs", "_blank", "noopener noreferrer"],
        ["https://example.org/page", "https://example.org/page", "_blank", "noopener noreferrer"],
    ]

    code = reply.find_element("css selector", ".code-block code")
    assert code.text == 'def greet(name):\n    return f"Hello, {name}!"'
    assert reply.find_element("css selector", ".code-language").text == "python"
    page.driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": page.url.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copy = reply.find_element("css selector", ".copy-button")
    copy.click()
    page.wait(lambda d: copy.text == "Copied")
    assert page.driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))") == code.text
    page.screenshot("chat-markdown")

    # The whole reply copies as the Markdown the model wrote, not as the text on screen.
    whole = page.find(".reply .copy-reply")
    assert whole.is_displayed() and whole.text == "Copy as Markdown"
    whole.click()
    page.wait(lambda d: whole.text == "Copied")
    copied = page.driver.execute_async_script("navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))")
    assert copied.startswith("## Markdown check")
    assert "**bold**" in copied and "[safe link](https://example.com/docs)" in copied and "```python" in copied
    page.wait(lambda d: whole.text == "Copy as Markdown", timeout=5)


def test_tool_calls_show_as_expandable_items_with_errors_in_red(page):
    page.send("[tool] add 2 and 3")
    page.wait_for_replies(1)

    calls = page.find_all(".reply .tool-call")
    assert [call.find_element("css selector", ".tool-name").text for call in calls] == ["calc_add", "calc_missing"]
    added, missing = calls
    assert added.get_attribute("open") is None, "tool calls start folded"
    assert added.get_attribute("data-state") == "ok"
    assert missing.get_attribute("data-state") == "error"
    assert "tool-error" in missing.get_attribute("class")
    red, green, blue = rgb(missing.find_element("css selector", ".tool-name").value_of_css_property("color"))
    assert red > 150 and green < 100 and blue < 100, "a failed tool call is red"

    added.find_element("css selector", "summary").click()
    page.wait(lambda d: added.find_element("css selector", ".tool-input").is_displayed())
    assert '"a": 2' in added.find_element("css selector", ".tool-input").text
    assert "5" in added.find_element("css selector", ".tool-result").text
    missing.find_element("css selector", "summary").click()
    page.wait(lambda d: missing.find_element("css selector", ".tool-result").is_displayed())
    assert "no tool named calc_missing" in missing.find_element("css selector", ".tool-result").text

    # The text before the calls, and the answer after them, in order.
    parts = page.js("return [...document.querySelector('.reply .reply-parts').children].map(e => e.className)")
    assert parts == ["markdown", "tool-call", "tool-call tool-error", "markdown"]
    assert "The sum is 5." in page.reply_text()
    page.screenshot("chat-tool-calls")


def test_stop_pressed_before_the_server_has_the_reply_stops_it_once_it_starts(proxied_page, proxy, kaiwa, fake_model):
    page = proxied_page
    hold = fake_model.new_hold()
    post = proxy.fault_next("POST /chat/stream", "hold")
    page.send(f"[slow 20 10] [hold {hold} 0] stop me early")
    post.wait_arrived()
    session = page.session_id()

    # The message is still on its way: the server has no reply to stop, and says so.
    page.click("#stop-button")
    page.wait(lambda d: kaiwa.requests_to(f"/api/sessions/{session}/stop") == 1)
    assert page.is_busy()
    assert page.find_all(".reply .reply-status-stopped") == []

    # Once the server has it, the page asks again, before the model's first word.
    post.release()
    page.wait_for_replies(1)
    assert page.find(".reply .reply-status-stopped").text == "Stopped."
    page.wait(lambda d: kaiwa.requests_to(f"/api/sessions/{session}/stop") == 2)
    page.wait(lambda d: kaiwa.get_json(f"api/sessions/{session}")["messages"][-1]["status"] == "partial")
    assert page.reply_text() == "", "stopped before the model's first word"


def test_a_stop_the_server_does_not_make_never_says_stopped(proxied_page, proxy, kaiwa, fake_model):
    page = proxied_page
    hold = fake_model.new_hold()
    page.send(f"[slow 6 10] [hold {hold} 3] not stopping")
    fake_model.wait_until_held(hold)
    page.wait(lambda d: "w3" in (page.reply_text() or ""))
    session = page.session_id()

    # The server answers that nothing was stopped, and no `done` comes within the grace time.
    proxy.fault_next(f"POST /api/sessions/{session}/stop", "answer", status=200, body={"stopped": False})
    page.click("#stop-button")
    page.wait_for_text(".reply .reply-status", "The reply has not stopped and is still being written.")
    assert page.is_busy(), "the page still follows the reply"
    page.screenshot("chat-not-stopped")

    fake_model.release(hold)
    page.wait_for_replies(1)
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 7)]
    assert page.find_all(".reply .reply-status-stopped") == []
    assert not page.find(".reply .reply-status").is_displayed()
    assert kaiwa.get_json(f"api/sessions/{session}")["messages"][-1]["status"] == "complete"


def test_send_and_stop_buttons_hand_keyboard_focus_to_each_other(page, fake_model):
    hold = fake_model.new_hold()
    page.type(f"[slow 5 10] [hold {hold} 2] by keyboard")
    page.input.send_keys(Keys.TAB)
    assert page.driver.switch_to.active_element.get_attribute("id") == "send-button"

    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait(lambda d: page.is_busy())
    assert page.driver.switch_to.active_element.get_attribute("id") == "stop-button"

    fake_model.release(hold)
    page.wait_for_replies(1)
    assert page.driver.switch_to.active_element.get_attribute("id") == "send-button"


def rgb(css_color):
    return [int(part) for part in re.findall(r"\d+", css_color)[:3]]
