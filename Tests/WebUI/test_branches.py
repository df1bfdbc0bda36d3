"""Branches: a question edited in place and sent again, a reply written again, and moving
between the versions with "‹ 2 / 3 ›", by mouse and by keyboard, kept across a reload."""

from selenium.webdriver.common.keys import Keys


def user_item(page, index):
    return page.find_all("#messages .message.user")[index]


def versions(element):
    found = element.find_elements("css selector", ".version-position")
    return found[0].text if found else None


def wait_for_controls(page, count):
    """The controls come once the server has the messages: wait for `count` Edit buttons."""
    page.wait(lambda d: len(page.find_all("#messages .edit-message")) == count, message="no edit buttons")


def test_a_question_edited_in_place_is_sent_again_and_both_versions_remain(page, kaiwa):
    page.send("first question")
    page.wait_for_replies(1)
    page.send("second question")
    page.wait_for_replies(2)
    wait_for_controls(page, 2)

    # Escape puts the message back untouched.
    user_item(page, 1).find_element("css selector", ".edit-message").click()
    box = page.find("#messages .edit-box")
    assert box.get_attribute("value") == "second question"
    box.send_keys(" (draft)", Keys.ESCAPE)
    page.wait(lambda d: page.find_all("#messages .edit-box") == [])
    assert page.user_messages() == ["first question", "second question"]

    # Reached by keyboard: focus the pencil, press Enter, type, press Enter.
    page.js("arguments[0].focus()", user_item(page, 1).find_element("css selector", ".edit-message"))
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    box = page.find("#messages .edit-box")
    assert page.driver.switch_to.active_element == box
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("second question, fixed", Keys.ENTER)

    page.wait(lambda d: page.user_messages() == ["first question", "second question, fixed"])
    page.wait_for_replies(2)
    page.wait(lambda d: page.reply_text() == "Echo: second question, fixed")
    page.wait(lambda d: versions(user_item(page, 1)) == "2 / 2", message="no 2 / 2 on the edited question")
    assert versions(user_item(page, 0)) is None
    page.screenshot("branch-edited")

    # Back to the first version: its question and its reply.
    user_item(page, 1).find_element("css selector", ".version-step[aria-label='Previous version']").click()
    page.wait(lambda d: page.user_messages() == ["first question", "second question"])
    assert page.reply_text() == "Echo: second question"
    page.wait(lambda d: versions(user_item(page, 1)) == "1 / 2")

    # The server remembers the branch: a reload shows it, and the next message continues it.
    page.reload()
    page.wait(lambda d: page.user_messages() == ["first question", "second question"])
    page.send("third question")
    page.wait_for_replies(3)
    session = kaiwa.get_json(f"api/sessions/{page.session_id()}")
    assert [m["text"] for m in session["messages"] if m["role"] == "user"] == ["first question", "second question", "third question"]


def test_regenerate_writes_the_last_reply_again_as_a_second_version(page, kaiwa):
    page.send("tell me once")
    page.wait_for_replies(1)
    page.wait(lambda d: len(page.find_all("#messages .reply .regenerate")) == 1, message="no Regenerate button")

    page.click("#messages .reply .regenerate")

    page.wait(lambda d: versions(page.replies()[-1]) == "2 / 2", message="no 2 / 2 on the regenerated reply")
    assert len(page.replies()) == 1
    assert page.user_messages() == ["tell me once"]
    assert page.reply_text() == "Echo: tell me once"
    tree = kaiwa.get_json(f"api/sessions/{page.session_id()}?tree=true")
    assert [m["role"] for m in tree["messages"]] == ["user", "assistant", "assistant"]

    page.replies()[-1].find_element("css selector", ".version-step[aria-label='Previous version']").click()
    page.wait(lambda d: versions(page.replies()[-1]) == "1 / 2")
    # Only the last reply offers Regenerate, once the page knows its messages again.
    page.send("and again")
    page.wait_for_replies(2)
    page.wait(lambda d: len(page.find_all("#messages .reply .regenerate")) == 1
              and page.replies()[-1].find_elements("css selector", ".regenerate") != [])
