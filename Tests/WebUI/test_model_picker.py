"""The model picker: the catalogue models the chosen agent may use, the pick remembered per
agent and sent with each message, and under each reply the model that answered (a fallback
said as such)."""

import json

import pytest
from selenium.webdriver.common.keys import Keys

from chat_page import PHONE, ChatPage
from kaiwa_server import AGENTS, KaiwaServer, free_port

# Which agent may use which models (the catalogue is made in the fixture: it needs the fake's address).
MODEL_AGENTS = {
    "default": "assistant",
    "agents": [
        # No "model"/"models": the catalogue's default, and every model may be picked.
        AGENTS["agents"][0],
        {**AGENTS["agents"][1], "model": "fake-large", "models": ["fake-large", "fake"]},
        {"name": "solo", "display_name": "Solo", "system_prompt": "You answer briefly.", "models": ["fake-large"]},
    ],
}

# Records the bodies the page POSTs, to see what it sends.
RECORD_REQUESTS = """
window.__sent = [];
const fetchBefore = window.fetch;
window.fetch = (url, options = {}) => {
  if (options.body) window.__sent.push(JSON.parse(options.body));
  return fetchBefore(url, options);
};"""


@pytest.fixture(scope="module")
def models_kaiwa(fake_model, tmp_path_factory):
    """Kaiwa with a model catalogue: `fake` (the fake's fake-model, the default), `fake-large`
    (the same server asked for fake-large, with prices) and `flaky` (nobody listens at its
    address; `fake` stands in)."""
    catalogue = {
        "default": "fake",
        "models": [
            {"name": "fake", "provider": "openai", "model": "fake-model", "base_url": fake_model.base_url},
            {"name": "fake-large", "provider": "openai", "model": "fake-large", "base_url": fake_model.base_url,
             "context_window": 32000, "price": {"input_per_million": 1.0, "output_per_million": 2.0}},
            {"name": "flaky", "provider": "openai", "model": "fake-model",
             "base_url": f"http://127.0.0.1:{free_port()}/v1", "fallbacks": ["fake"]},
        ],
    }
    server = KaiwaServer(tmp_path_factory.mktemp("models"), fake_model.base_url, name="models",
                         agents=MODEL_AGENTS, models=catalogue).start()
    yield server
    server.stop()


@pytest.fixture
def models_page(browser, models_kaiwa):
    return ChatPage(browser, models_kaiwa.url).open()


def options(page, picker="#model-picker"):
    return page.js(f"return [...document.querySelectorAll('{picker} option')].map(o => o.value)")


def picker_shown(page):
    return page.find("#model-picker").is_displayed()


def pick(page, css, value):
    page.find(f"{css} option[value='{value}']").click()


def accessible_name(page, css):
    """The name Chromium gives the element for screen readers."""
    document = page.driver.execute_cdp_cmd("DOM.getDocument", {"depth": 0})
    node = page.driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": css})
    tree = page.driver.execute_cdp_cmd("Accessibility.getPartialAXTree", {"nodeId": node["nodeId"], "fetchRelatives": False})
    return tree["nodes"][0]["name"]["value"]


def meta(page, index=-1):
    return page.find_all(".reply .reply-meta")[index]


def test_the_picker_lists_the_models_the_chosen_agent_may_use(models_page, models_kaiwa):
    page = models_page
    agents = {agent["name"]: agent for agent in models_kaiwa.get_json("api/agents")["agents"]}
    assert sorted(agents["assistant"]["models"]) == ["fake", "fake-large", "flaky"]

    assert picker_shown(page)
    assert options(page) == agents["assistant"]["models"]
    assert page.find("#model-picker").get_attribute("value") == "fake", "the agent's own model comes first selected"
    # A labelled select: its label names it (in the page's language).
    assert accessible_name(page, "#model-picker") == "Model"
    page.screenshot("model-picker")

    # Another agent, its own models and its own default.
    pick(page, "#agent-picker", "events")
    page.wait(lambda d: options(page) == ["fake-large", "fake"])
    assert page.find("#model-picker").get_attribute("value") == "fake-large"

    page.find("#language-picker option[value='ja']").click()
    page.wait(lambda d: page.find(".model-choice .picker-label").text == "モデル")
    assert accessible_name(page, "#model-picker") == "モデル"
    page.find("#language-picker option[value='en']").click()


def test_picking_a_model_makes_the_next_reply_come_from_it(models_page, models_kaiwa):
    page = models_page
    page.js(RECORD_REQUESTS)
    page.send("[model] who answers?")
    page.wait_for_replies(1)
    assert page.reply_text() == "Model: fake-model"
    assert meta(page).find_element("css selector", ".model-name").text == "fake"
    # The agent's own model is not sent: the server picks it.
    assert "model" not in page.js("return window.__sent.at(-1)")

    # With the keyboard: focus the picker, arrow down to the next model.
    picker = page.find("#model-picker")
    picker.send_keys(Keys.ARROW_DOWN)
    page.wait(lambda d: picker.get_attribute("value") == "fake-large")
    assert page.js("return localStorage.getItem('kaiwa.model.assistant')") == "fake-large"

    page.send("[model] and now?")
    page.wait_for_replies(2)
    assert page.reply_text() == "Model: fake-large", "the picked model answered"
    assert page.js("return window.__sent.at(-1).model") == "fake-large"
    last = meta(page)
    assert last.find_element("css selector", ".model-name").text == "fake-large"
    assert last.get_attribute("data-fallback") is None
    assert "$" in last.find_element("css selector", ".cost").text, "fake-large has prices: the reply's cost shows"
    # The same conversation went on: a model is not an agent.
    assert len(page.replies()) == 2

    stored = models_kaiwa.get_json(f"api/sessions/{page.session_id()}")
    assert [m.get("model") for m in stored["messages"] if m["role"] == "assistant"] == ["fake", "fake-large"]

    # After a reload: the stored replies name their models, and the pick is still there.
    page.reload()
    assert [e.text for e in page.find_all(".reply .reply-meta .model-name")] == ["fake", "fake-large"]
    assert page.find("#model-picker").get_attribute("value") == "fake-large"

    # The pick belongs to the agent: another agent has its own, and coming back finds it.
    pick(page, "#agent-picker", "events")
    page.wait(lambda d: page.find("#model-picker").get_attribute("value") == "fake-large" and options(page)[0] == "fake-large")
    pick(page, "#model-picker", "fake")
    pick(page, "#agent-picker", "assistant")
    page.wait(lambda d: options(page) == ["fake", "fake-large", "flaky"])
    assert page.find("#model-picker").get_attribute("value") == "fake-large"
    assert page.js("return localStorage.getItem('kaiwa.model.events')") == "fake"

    # Picking the agent's own model again forgets the pick, and sends no model.
    pick(page, "#model-picker", "fake")
    assert page.js("return localStorage.getItem('kaiwa.model.assistant')") is None
    page.js(RECORD_REQUESTS)
    page.send("[model] back to the default")
    page.wait_for_replies(1)
    assert page.reply_text() == "Model: fake-model"
    assert "model" not in page.js("return window.__sent.at(-1)")


def test_a_fallback_shows_the_model_that_answered(models_page, models_kaiwa):
    page = models_page
    pick(page, "#model-picker", "flaky")
    page.send("[model] is anyone there?")
    page.wait_for_replies(1)

    # Nobody listens at flaky's address: its fallback, fake, answered, and the reply says so.
    assert page.reply_text() == "Model: fake-model"
    last = meta(page)
    assert last.find_element("css selector", ".model-name").text == "fake"
    assert last.get_attribute("data-fallback") == "true"
    assert last.find_element("css selector", ".model-fallback").text == "fallback: flaky did not answer"
    page.screenshot("model-fallback")

    # Stored, the reply names the model that answered.
    stored = models_kaiwa.get_json(f"api/sessions/{page.session_id()}")
    assert [m.get("model") for m in stored["messages"] if m["role"] == "assistant"] == ["fake"]
    page.reload()
    page.wait(lambda d: [e.text for e in page.find_all(".reply .reply-meta .model-name")] == ["fake"])


def test_an_agent_with_one_model_shows_no_picker(models_page):
    page = models_page
    assert picker_shown(page)
    pick(page, "#agent-picker", "solo")
    page.wait(lambda d: not picker_shown(page))
    page.js(RECORD_REQUESTS)
    page.send("[model] just you")
    page.wait_for_replies(1)
    assert page.reply_text() == "Model: fake-large", "the agent's one model answers"
    assert meta(page).find_element("css selector", ".model-name").text == "fake-large"
    assert "model" not in page.js("return window.__sent.at(-1)")


def test_a_server_without_a_catalogue_shows_no_picker(page):
    # One model (KAIWA_MODEL): nothing to pick, and replies still name it.
    assert not picker_shown(page)
    page.send("hello")
    page.wait_for_replies(1)
    assert meta(page).find_element("css selector", ".model-name").text == "openai:fake-model"
    assert meta(page).get_attribute("data-fallback") is None


def test_both_pickers_fit_a_phone(models_page):
    page = models_page
    page.use_viewport(PHONE)
    pick(page, "#model-picker", "fake-large")
    page.send("[model] on the phone")
    page.wait_for_replies(1)
    page.screenshot("phone-model-picker")
    for agent in ("assistant", "events"):  # Event finder: a longer name
        pick(page, "#agent-picker", agent)
        page.wait(lambda d: page.find("#agent-picker").get_attribute("value") == agent)
        sizes = page.js("""
            const rect = (id) => document.getElementById(id).getBoundingClientRect();
            return {
              page: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
              agent: [rect('agent-picker').left, rect('agent-picker').right],
              model: [rect('model-picker').left, rect('model-picker').right],
              menu: rect('open-sidebar').right, newChat: rect('new-chat-top').left,
            };""")
        assert sizes["page"] <= 375, sizes
        assert sizes["menu"] <= sizes["agent"][0] < sizes["agent"][1] <= sizes["model"][0] < sizes["model"][1] <= sizes["newChat"], sizes
    assert page.find("#model-picker").is_displayed()
    # The labels are off screen but still name the pickers.
    assert page.js("return document.querySelector('.model-choice .picker-label').getBoundingClientRect().width") <= 1
    assert accessible_name(page, "#model-picker") == "Model"
    assert accessible_name(page, "#agent-picker") == "Agent"
