"""Chatting: sending, streaming, stopping, Markdown, tool calls."""

import re

from selenium.webdriver.common.keys import Keys


def test_enter_sends_and_the_reply_streams_in_after_a_loading_indicator(page):
    page.send("[wait 3000] [slow 40 150] count for me")

    assert page.user_messages() == ["[wait 3000] [slow 40 150] count for me"]
    assert page.input.get_attribute("value") == ""
    page.wait(lambda d: page.find(".reply .typing").is_displayed(), message="no typing indicator")
    assert page.is_busy()
    page.screenshot("chat-loading")

    # Part of the reply shows while the rest is still being written.
    page.wait(lambda d: "w3" in (page.reply_text() or ""))
    assert page.is_busy()
    assert not page.find(".reply .typing").is_displayed()
    assert "w40" not in page.reply_text()
    assert page.find(".reply").get_attribute("aria-busy") == "true"
    page.screenshot("chat-streaming")

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


def test_stop_button_ends_a_running_reply_and_keeps_what_was_written(page, kaiwa):
    page.send("[slow 300 100] a long answer")
    page.wait(lambda d: "w3" in (page.reply_text() or ""))
    assert page.find("#send-button").get_attribute("hidden") is not None

    page.click("#stop-button")
    page.wait_for_replies(1)
    assert page.find(".reply .reply-status-stopped").text == "Stopped."
    written = page.reply_text().split()
    assert 3 <= len(written) < 300
    assert written == [f"w{i}" for i in range(1, len(written) + 1)]
    assert page.find("#stop-button").get_attribute("hidden") is not None
    page.screenshot("chat-stopped")

    stored = kaiwa.get_json(f"api/sessions/{page.session_id()}")["messages"]
    assert stored[-1]["status"] == "partial"
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


def rgb(css_color):
    return [int(part) for part in re.findall(r"\d+", css_color)[:3]]
