"""Conversations: new, reloaded, reopened from the sidebar, deleted; agents and their
suggested prompts."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from chat_page import ChatPage
from kaiwa_server import KaiwaServer


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


def test_opening_a_conversation_twice_quickly_follows_its_running_reply_once(page, kaiwa, fake_model):
    hold = fake_model.new_hold()
    message = f"[slow 12 10] [hold {hold} 3] still running"
    page.send(message)
    fake_model.wait_until_held(hold)
    page.wait(lambda d: "w3" in (page.reply_text() or ""))
    running = page.session_id()
    page.click("#new-chat")
    page.wait(lambda d: page.find_all(f"#session-list [data-session-id='{running}']"))

    # A double-click: two clicks before the first has loaded the conversation.
    item = page.find(f"#session-list [data-session-id='{running}'] .session-open")
    page.js("arguments[0].click(); arguments[0].click();", item)

    page.wait(lambda d: page.is_busy(), message="the running reply is followed")
    page.wait(lambda d: (page.reply_text() or "").split() == ["w1", "w2", "w3"])
    fake_model.release(hold)
    page.wait_for_replies(1)
    assert page.user_messages() == [message]
    assert len(page.replies()) == 1
    assert page.reply_text().split() == [f"w{i}" for i in range(1, 13)]
    assert kaiwa.requests_to(f"/api/sessions/{running}/stream") == 1, "one reader, not a hidden second one"


def test_show_more_lists_conversations_past_the_first_fifty(browser, fresh_kaiwa):
    titles = [f"conversation {number:02}" for number in range(1, 56)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda title: post_json(fresh_kaiwa.url + "chat", {"message": title}), titles))
    page = ChatPage(browser, fresh_kaiwa.url).open()

    page.wait(lambda d: len(sidebar_titles(page)) == 50)
    more = page.find("#session-more")
    assert more.is_displayed() and more.text == "Show more"
    page.js("arguments[0].scrollIntoView()", more)
    page.screenshot("sidebar-show-more")
    page.find("#language-picker option[value='ja']").click()
    page.wait(lambda d: more.text == "さらに表示")
    page.find("#language-picker option[value='en']").click()

    more.click()
    page.wait(lambda d: len(sidebar_titles(page)) == 55)
    assert sorted(sidebar_titles(page)) == titles
    assert not more.is_displayed()
    assert page.js("return document.activeElement.closest('[data-session-id]') === "
                   "document.querySelectorAll('#session-list > li')[50]"), "focus moves to the first added one"

    # A new conversation refreshes the list: the older ones stay.
    page.input.click()
    page.send("one more")
    page.wait_for_replies(1)
    page.wait(lambda d: len(sidebar_titles(page)) == 56)
    assert not more.is_displayed()


def test_sidebar_keeps_focus_on_the_same_conversation_when_it_is_redrawn(page, fake_model):
    page.send("an earlier conversation")
    page.wait_for_replies(1)
    earlier = page.session_id()
    page.click("#new-chat")
    hold = fake_model.new_hold()
    page.send(f"[slow 4 10] [hold {hold} 1] a later one")
    fake_model.wait_until_held(hold)
    later = page.session_id()
    page.wait(lambda d: page.find_all(f"#session-list [data-session-id='{later}']"))

    delete = page.find(f"#session-list [data-session-id='{earlier}'] .session-delete")
    page.js("arguments[0].focus(); arguments[0].closest('li').dataset.drawnBefore = '';", delete)
    fake_model.release(hold)
    page.wait_for_replies(1)
    page.wait(lambda d: not page.find_all("#session-list [data-drawn-before]"), message="the list was not redrawn")

    focused = page.js("const e = document.activeElement; return [e.className, e.closest('[data-session-id]')?.dataset.sessionId]")
    assert focused == ["session-delete icon-button", earlier]


def test_a_stored_user_message_without_content_blocks_shows_as_the_users_message(page):
    drawn = page.driver.execute_async_script(SHOW_HISTORY, [
        {"role": "user", "text": "no blocks at all"},
        {"role": "assistant", "text": "first answer", "content": [{"type": "text", "text": "first answer"}], "status": "complete"},
        {"role": "user", "text": "empty blocks", "content": []},
        {"role": "assistant", "text": "", "content": [{"type": "tool_use", "id": "t1", "name": "calc_add", "input": {}}]},
        {"role": "user", "text": "", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "5"}]},
        {"role": "assistant", "text": "second answer", "content": [{"type": "text", "text": "second answer"}], "status": "complete"},
    ])
    assert drawn == {"users": ["no blocks at all", "empty blocks"], "replies": 2}


SHOW_HISTORY = """
const done = arguments[arguments.length - 1];
import('./ui/message-list.js').then(({ MessageList }) => {
  const scroller = document.createElement('div');
  const list = document.createElement('ol');
  scroller.append(list);
  new MessageList(list, scroller).showHistory(arguments[0]);
  done({
    users: [...list.querySelectorAll('.message.user .bubble')].map((e) => e.textContent),
    replies: list.querySelectorAll('.message.reply').length,
  });
}, (error) => done('import failed: ' + error));
"""


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_search_box_finds_conversations_by_their_words_with_a_snippet(page):
    page.send("来月のぷるぷるカンファレンスを探しています")
    page.wait_for_replies(1)
    found = page.session_id()
    page.click("#new-chat")
    page.send("How do swift actors work?")
    page.wait_for_replies(1)
    other = page.session_id()
    page.wait(lambda d: page.find_all(f"#session-list [data-session-id='{other}']"))

    search = page.find("#session-search")
    assert search.get_attribute("placeholder") == "Search conversations"
    search.send_keys("ぷるぷるカンファレンス")
    page.wait(lambda d: [e.get_attribute("data-session-id") for e in page.find_all("#session-list > li")] == [found])
    snippet = page.find(f"#session-list [data-session-id='{found}'] .session-snippet").text
    assert "ぷるぷるカンファレンス" in snippet
    page.screenshot("sidebar-search")

    search.send_keys("とは関係ない言葉")
    page.wait(lambda d: page.find("#session-no-match").is_displayed())
    assert page.find_all("#session-list > li") == []
    assert page.find("#session-no-match").text == "No conversation has these words."

    page.js("arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'))", search)
    page.wait(lambda d: len(page.find_all(f"#session-list [data-session-id='{other}']")) == 1
              and len(page.find_all(f"#session-list [data-session-id='{found}']")) == 1)
    assert not page.find("#session-no-match").is_displayed()
    assert page.find_all("#session-list .session-snippet") == []


def test_a_conversation_is_renamed_in_place_and_escape_keeps_the_old_title(page, kaiwa):
    page.send("rename me please")
    page.wait_for_replies(1)
    session = page.session_id()
    item = f"#session-list [data-session-id='{session}']"
    page.wait(lambda d: page.find_all(item))
    rename = page.find(f"{item} .session-rename")
    assert rename.get_attribute("aria-label") == "Rename “rename me please”"

    rename.click()
    field = page.find(f"{item} .session-title-field")
    assert page.js("return document.activeElement === arguments[0]", field)
    field.send_keys("\ue00c")  # Escape
    page.wait(lambda d: page.find(f"{item} .session-title").text == "rename me please")
    assert page.js("return document.activeElement.classList.contains('session-rename')")

    page.find(f"{item} .session-rename").click()
    field = page.find(f"{item} .session-title-field")
    assert page.js("return arguments[0].selectionStart === 0 && arguments[0].selectionEnd === arguments[0].value.length", field)
    field.send_keys("週末の計画\n")  # replaces the selected old title
    page.wait(lambda d: page.find(f"{item} .session-title").text == "週末の計画")
    assert kaiwa.get_json(f"api/sessions/{session}")["title"] == "週末の計画"
    page.reload()
    page.wait(lambda d: page.find_all(item) and page.find(f"{item} .session-title").text == "週末の計画")


def test_a_new_conversations_title_written_by_the_model_appears_in_the_sidebar(browser, fake_model, tmp_path):
    server = KaiwaServer(tmp_path, fake_model.base_url, name="titles", extra_env={"KAIWA_TITLES_FROM_MODEL": "true"}).start()
    try:
        page = ChatPage(browser, server.url).open()
        page.send("what should I cook tonight")
        page.wait_for_replies(1)
        session = page.session_id()
        # The fake model echoes what it is asked: the title request starts "User: <the message>".
        page.wait(lambda d: page.find_all(f"#session-list [data-session-id='{session}']")
                  and page.find(f"#session-list [data-session-id='{session}'] .session-title").text.startswith("Echo: User:"),
                  timeout=15)
        title = server.get_json("api/sessions")["sessions"][0]["title"]
        assert title.startswith("Echo: User: what should I cook tonight")
    finally:
        server.stop()
