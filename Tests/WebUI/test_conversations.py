"""Conversations: new, reloaded, reopened from the sidebar, deleted; agents and their
suggested prompts."""

import urllib.error
import urllib.request

import pytest


def suggestions(page):
    return [element.text for element in page.find_all("#suggestions .suggestion") if element.is_displayed()]


def sidebar_titles(page):
    return [element.text for element in page.find_all("#session-list .session-title")]


def test_new_conversation_clears_history_and_shows_suggested_prompts_again(page):
    assert suggestions(page) == ["Tell me something nice", "Show me some Markdown"]
    page.screenshot("conversation-empty")
    first_session = page.session_id()
    page.send("remember me")
    page.wait_for_replies(1)
    assert not page.find("#welcome").is_displayed()

    page.click("#new-chat")

    page.wait(lambda d: page.find_all("#messages .message") == [])
    assert page.session_id() != first_session
    assert suggestions(page) == ["Tell me something nice", "Show me some Markdown"]
    page.wait(lambda d: "remember me" in sidebar_titles(page))
    assert page.driver.switch_to.active_element == page.input


def test_reload_keeps_the_conversation_and_continues_it(page, kaiwa):
    page.send("before the reload")
    page.wait_for_replies(1)
    session = page.session_id()

    page.reload()

    page.wait(lambda d: page.user_messages() == ["before the reload"])
    assert page.session_id() == session
    assert page.reply_text() == "Echo: before the reload"
    assert not page.find("#welcome").is_displayed()
    page.send("after the reload")
    page.wait_for_replies(2)
    stored = kaiwa.get_json(f"api/sessions/{session}")["messages"]
    assert [message["text"] for message in stored if message["role"] == "user"] == ["before the reload", "after the reload"]


def test_opening_a_past_conversation_loads_its_messages_and_tool_calls(page):
    page.send("[tool] the first conversation")
    page.wait_for_replies(1)
    first = page.session_id()
    page.click("#new-chat")
    page.send("the second conversation")
    page.wait_for_replies(1)

    page.wait(lambda d: page.find_all(f"#session-list [data-session-id='{first}']"))
    item = page.find(f"#session-list [data-session-id='{first}']")
    assert item.find_element("css selector", ".session-title").text == "[tool] the first conversation"
    assert item.find_element("css selector", ".session-time").text != ""
    item.find_element("css selector", ".session-open").click()

    page.wait(lambda d: page.user_messages() == ["[tool] the first conversation"])
    assert page.session_id() == first
    page.wait(lambda d: page.find(f"#session-list [data-session-id='{first}'] .session-open").get_attribute("aria-current") == "page")
    # The stored reply shows as the live one did: text, tool calls (the failed one red), text.
    parts = page.js("return [...document.querySelector('.reply .reply-parts').children].map(e => e.className)")
    assert parts == ["markdown", "tool-call", "tool-call tool-error", "markdown"]
    assert [e.text for e in page.find_all(".reply .tool-name")] == ["calc_add", "calc_missing"]
    assert "The sum is 5." in page.reply_text()
    assert "openai:fake-model" in page.find(".reply .reply-meta").text
    page.screenshot("conversation-reopened")


def test_deleting_a_conversation_asks_first_and_removes_it_from_the_server(page, kaiwa):
    page.send("delete me later")
    page.wait_for_replies(1)
    session = page.session_id()
    page.wait(lambda d: page.find_all(f"#session-list [data-session-id='{session}']"))
    delete = f"#session-list [data-session-id='{session}'] .session-delete"
    assert page.find(delete).get_attribute("aria-label") == "Delete “delete me later”"

    page.click(delete)
    page.wait(lambda d: page.find("#confirm-delete").is_displayed())
    assert "delete me later" in page.find("#confirm-delete").text
    page.screenshot("conversation-delete-confirm")
    page.find("#confirm-delete button[value='cancel']").click()
    page.wait(lambda d: not page.find("#confirm-delete").is_displayed())
    assert page.find_all(f"#session-list [data-session-id='{session}']")
    assert kaiwa.get_json(f"api/sessions/{session}")["id"] == session

    page.click(delete)
    page.wait(lambda d: page.find("#confirm-delete").is_displayed())
    page.click("#confirm-delete-button")

    page.wait(lambda d: not page.find_all(f"#session-list [data-session-id='{session}']"))
    with pytest.raises(urllib.error.HTTPError) as answer:
        kaiwa.get_json(f"api/sessions/{session}")
    assert answer.value.code == 404
    # The open conversation was the deleted one: a new one takes its place.
    assert page.session_id() != session
    assert page.find_all("#messages .message") == []


def test_clicking_a_suggested_prompt_sends_it_and_hides_the_prompts(page):
    page.find_all("#suggestions .suggestion")[1].click()

    page.wait_for_replies(1)
    assert page.user_messages() == ["Show me some Markdown"]
    assert page.find(".reply .markdown h2").text == "Markdown check"
    assert not page.find("#welcome").is_displayed()
    assert suggestions(page) == []


def test_agent_picker_offers_the_servers_agents_and_their_prompts(page, kaiwa):
    options = page.js("return [...document.querySelectorAll('#agent-picker option')].map(o => [o.value, o.textContent])")
    assert options == [["assistant", "Assistant"], ["events", "Event finder"]]
    assert page.find("#agent-picker").get_attribute("value") == "assistant"

    page.find("#agent-picker option[value='events']").click()

    page.wait(lambda d: suggestions(page) == ["TypeScriptのカンファレンスある？", "面白そうなイベント教えて"])
    page.find_all("#suggestions .suggestion")[0].click()
    page.wait_for_replies(1)
    session = kaiwa.get_json(f"api/sessions/{page.session_id()}")
    assert session["agent"] == "events"

    # Another agent cannot join a conversation: choosing one starts a new conversation.
    page.find("#agent-picker option[value='assistant']").click()
    page.wait(lambda d: page.find_all("#messages .message") == [])
    assert page.session_id() != session["id"]
    assert suggestions(page) == ["Tell me something nice", "Show me some Markdown"]

    # A reopened conversation brings its agent back into the picker.
    page.find(f"#session-list [data-session-id='{session['id']}'] .session-open").click()
    page.wait(lambda d: page.find("#agent-picker").get_attribute("value") == "events")
