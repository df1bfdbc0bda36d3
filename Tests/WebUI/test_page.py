"""The page itself: phone and desktop layouts, themes, languages, keyboard and screen-reader
use, hosting as static files, and the README's screenshot."""

import json
import os
import re
import shutil
import threading
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from selenium.webdriver.common.keys import Keys

from chat_page import DESKTOP, PHONE, REPO, ChatPage
from kaiwa_server import KaiwaServer


def test_phone_width_has_no_horizontal_scroll_and_a_drawer_for_conversations(page):
    page.use_viewport(PHONE)
    page.send("Show me some Markdown")
    page.wait_for_replies(1)
    page.send("a" * 150 + " https://example.com/" + "very-long-path/" * 12)
    page.wait_for_replies(2)
    page.screenshot("phone-conversation")

    sizes = page.js("""
        const conversation = document.getElementById('conversation');
        return {
          width: window.innerWidth,
          page: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
          conversation: conversation.scrollWidth - conversation.clientWidth,
          widest: Math.max(...[...document.querySelectorAll('#messages > li, .composer, .topbar')]
                             .map(e => e.getBoundingClientRect().right)),
        };""")
    assert sizes["width"] == 375
    assert sizes["page"] <= 375, sizes
    assert sizes["conversation"] <= 0, sizes
    assert sizes["widest"] <= 375, sizes

    sidebar_left = "return document.getElementById('sidebar').getBoundingClientRect().left"
    assert page.js(sidebar_left) < 0, "the conversation list is tucked away"
    assert not page.find("#new-chat").is_displayed()
    main_is_inert = "return document.querySelector('main').inert"
    assert page.js(main_is_inert) is False
    page.click("#open-sidebar")
    page.wait(lambda d: page.js(sidebar_left) == 0 and page.find("#new-chat").is_displayed())
    assert page.find("#open-sidebar").get_attribute("aria-expanded") == "true"
    assert page.js(main_is_inert) is True, "behind the drawer, the page is out of reach"
    assert page.driver.switch_to.active_element.get_attribute("id") == "new-chat"
    page.screenshot("phone-drawer")
    page.find("#new-chat").send_keys(Keys.ESCAPE)
    page.wait(lambda d: page.js(sidebar_left) < 0)
    assert page.find("#open-sidebar").get_attribute("aria-expanded") == "false"
    assert page.js(main_is_inert) is False
    assert page.driver.switch_to.active_element.get_attribute("id") == "open-sidebar", "focus goes back to the menu button"

    page.click("#new-chat-top")
    page.wait(lambda d: page.find("#welcome").is_displayed())
    page.screenshot("phone-empty")


def test_dark_theme_follows_the_system_setting(page):
    light = page.js("return getComputedStyle(document.body).backgroundColor")
    page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    page.wait(lambda d: page.js("return getComputedStyle(document.body).backgroundColor") != light)
    assert luminance(page.js("return getComputedStyle(document.body).backgroundColor")) < 0.2
    assert luminance(page.js("return getComputedStyle(document.body).color")) > 0.7
    page.send("[tool] Show me some Markdown in the dark")
    page.wait_for_replies(1)
    page.screenshot("theme-dark")


def test_language_follows_the_browser_then_the_switch(browser, kaiwa):
    user_agent = browser.execute_script("return navigator.userAgent")
    browser.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": user_agent, "acceptLanguage": "ja-JP,ja"})
    page = ChatPage(browser, kaiwa.url).open()

    assert page.js("return document.documentElement.lang") == "ja"
    assert page.input.get_attribute("placeholder") == "メッセージを入力してください"
    assert page.find("#new-chat").text == "新しい会話"
    page.send("こんにちは")
    page.wait_for_replies(1)
    page.wait(lambda d: page.announced() == "返信が完了しました。")
    page.screenshot("language-japanese")

    page.find("#language-picker option[value='en']").click()
    page.wait(lambda d: page.input.get_attribute("placeholder") == "Send a message…")
    assert page.find("#new-chat").text == "New conversation"
    assert page.js("return document.documentElement.lang") == "en"
    page.reload()
    assert page.input.get_attribute("placeholder") == "Send a message…", "the choice outlives a reload"


def test_everything_can_be_reached_by_keyboard_and_has_a_label(page):
    unnamed = page.js("""
        const name = (e) => (e.getAttribute('aria-label') || [...(e.labels || [])].map(l => l.textContent).join('')
                             || e.textContent).trim();
        return [...document.querySelectorAll('button, select, textarea, input, a[href], summary')]
          .filter(e => e.getClientRects().length > 0 && !name(e)).map(e => e.outerHTML.slice(0, 100));""")
    assert unnamed == []
    # Screen readers do not read the whole conversation as it grows; a status region says
    # when a reply ends. It is outside main, which is inert while the phone drawer is open.
    assert page.find("#messages").get_attribute("aria-live") is None
    assert page.find("#announcer").get_attribute("role") == "status"
    assert page.js("return document.querySelector('main').contains(document.getElementById('announcer'))") is False
    assert page.driver.switch_to.active_element == page.input

    # From the message box, Shift+Tab reaches the button that attaches files, then the
    # suggested prompts; Enter sends one.
    page.input.send_keys(Keys.SHIFT, Keys.TAB)
    assert page.driver.switch_to.active_element.get_attribute("id") == "attach-button"
    page.driver.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
    focused = page.driver.switch_to.active_element
    assert "suggestion" in focused.get_attribute("class")
    assert page.js("return getComputedStyle(document.activeElement).outlineStyle") != "none", "focus is visible"
    prompt = focused.text
    focused.send_keys(Keys.ENTER)
    page.wait_for_replies(1)
    assert page.user_messages() == [prompt]
    page.wait(lambda d: page.announced() == "The reply is complete.")


def test_page_works_as_static_files_with_the_api_address_in_config_js(browser, fake_model, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(REPO / "web", site)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    # As README says: the API allows the page's origin (no other site's page may call it).
    kaiwa = KaiwaServer(tmp_path, fake_model.base_url, name="api", extra_env={"KAIWA_CORS_ALLOWED_ORIGINS": origin}).start()
    config = site / "ui" / "config.js"
    config.write_text(config.read_text().replace('apiBaseUrl: ""', f"apiBaseUrl: {json.dumps(kaiwa.url.rstrip('/'))}"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = ChatPage(browser, f"{origin}/").open()
        page.send("hello from S3")
        page.wait_for_replies(1)
        assert page.reply_text() == "Echo: hello from S3"
        page.wait(lambda d: "hello from S3" in [e.text for e in page.find_all("#session-list .session-title")])
    finally:
        server.shutdown()
        server.server_close()
        kaiwa.stop()


def test_page_runs_only_scripts_and_styles_from_its_own_folder(page):
    policy = page.js("return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe" not in policy
    refused = page.driver.execute_async_script(INLINE_SCRIPT)
    page.driver.get_log("browser")  # Chromium logs the refusal this test is after
    assert refused == {"ran": False, "directive": "script-src-elem"}


INLINE_SCRIPT = """
const done = arguments[arguments.length - 1];
document.addEventListener('securitypolicyviolation', (event) => {
  setTimeout(() => done({ ran: window.__inline === 1, directive: event.effectiveDirective }), 50);
}, { once: true });
const script = document.createElement('script');
script.textContent = 'window.__inline = 1';
document.head.append(script);
"""


def test_page_loads_nothing_from_other_servers(page):
    origin = page.url.rstrip("/")
    resources = page.js("return performance.getEntriesByType('resource').map(r => r.name)")
    assert resources, "the page loads its scripts and styles"
    assert [name for name in resources if not name.startswith(origin + "/")] == []
    references = page.js("return [...document.querySelectorAll('[src], link[href]')].map(e => e.getAttribute('src') || e.getAttribute('href'))")
    assert all(reference.startswith("ui/") for reference in references), references


def test_readme_screenshot_of_a_conversation_with_markdown_and_a_tool_call(browser, fresh_kaiwa):
    for title in ("Plan a weekend in Kyoto", "TypeScriptのカンファレンスある？", "Explain Swift concurrency"):
        post_json(fresh_kaiwa.url + "chat", {"message": title})
    page = ChatPage(browser, fresh_kaiwa.url).open()
    page.use_viewport({**DESKTOP, "height": 900})
    page.send("What is 1234 + 4321? Show me in Swift too.")
    page.wait_for_replies(1)
    page.find(".reply .tool-call summary").click()
    page.wait(lambda d: page.find(".reply .tool-result").is_displayed())
    assert page.find(".reply .markdown h3").text == "1234 + 4321 = 5555.0"
    page.js("document.activeElement.blur(); document.getElementById('conversation').scrollTop = 0")
    path = page.screenshot("readme")
    if os.environ.get("KAIWA_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(path, REPO / "docs" / "screenshot.png")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def luminance(css_color):
    red, green, blue = [int(part) / 255 for part in re.findall(r"\d+", css_color)[:3]]
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
