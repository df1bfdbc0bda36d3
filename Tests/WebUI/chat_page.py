"""The chat page as the tests drive it: open it, type, wait for replies, read what shows."""

import os
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "web"

# Generous: the tests run on slow, shared 2-core machines.
WAIT_SECONDS = float(os.environ.get("KAIWA_WEB_TEST_WAIT", "40"))

DESKTOP = {"width": 1280, "height": 860, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True}


class ChatPage:
    def __init__(self, driver, url):
        self.driver = driver
        self.url = url

    # ---- opening ----

    def open(self, fresh=True):
        """Loads the page; `fresh` forgets the session id, language and agent of earlier tests."""
        self.driver.get(self.url)
        if fresh:
            self.driver.execute_script("localStorage.clear()")
            self.driver.get(self.url)
        self.wait_ready()
        return self

    def reload(self):
        self.driver.refresh()
        self.wait_ready()

    def wait_ready(self):
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))

    def use_viewport(self, metrics):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)

    # ---- acting ----

    @property
    def input(self):
        return self.driver.find_element(By.ID, "message-input")

    def type(self, text):
        self.input.send_keys(text)

    def send(self, text):
        """Types `text` and presses Enter, as a person does."""
        box = self.input
        box.clear()
        for index, line in enumerate(text.split("\n")):
            if index:
                box.send_keys(Keys.SHIFT, Keys.ENTER)
            box.send_keys(line)
        box.send_keys(Keys.ENTER)

    def click(self, css):
        self.find(css).click()

    # ---- reading ----

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def replies(self):
        return self.find_all("#messages .reply")

    def user_messages(self):
        return [element.text for element in self.find_all("#messages .message.user .bubble")]

    def reply_text(self, index=-1):
        """The text of a reply's Markdown parts (not its tool calls or notes)."""
        return self.js(
            "const replies = document.querySelectorAll('#messages .reply');"
            "const reply = replies[arguments[0] < 0 ? replies.length + arguments[0] : arguments[0]];"
            "return reply ? [...reply.querySelectorAll('.markdown')].map(e => e.innerText).join('\\n') : null;",
            index,
        )

    def announced(self):
        """What the status region for screen readers says now."""
        return self.find("#announcer").get_attribute("textContent")

    def session_id(self):
        return self.js("return localStorage.getItem('kaiwa.sessionId')")

    def is_busy(self):
        """Whether a reply is running (the stop button shows instead of send)."""
        return self.find("#stop-button").get_attribute("hidden") is None

    def wait_for_replies(self, count):
        """Waits until `count` replies have ended (done, stopped or failed)."""
        self.wait(lambda d: len(self.find_all("#messages .reply[aria-busy='false']")) >= count
                  and self.find("#stop-button").get_attribute("hidden") is not None)

    # ---- signing in ----

    def auth_state(self):
        """`none` (nobody signs in), `signed-out`, `signing-in`, `signed-in`; None elsewhere."""
        return self.js("return document.body ? (document.body.dataset.auth ?? null) : null")

    def wait_auth(self, state):
        self.wait(lambda d: self.auth_state() == state, message=f"the page never became {state}")

    def sign_in_shown(self):
        return self.js("return document.getElementById('sign-in').open") is True

    def session_item(self, key):
        return self.js("return sessionStorage.getItem(arguments[0])", key)

    def local_items(self):
        return self.js("return Object.fromEntries(Object.entries(localStorage))")

    def wait(self, condition, timeout=WAIT_SECONDS, message=""):
        def safe(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe, message)

    def wait_for_text(self, css, text, timeout=WAIT_SECONDS):
        self.wait(lambda d: any(text in element.text for element in self.find_all(css)), timeout,
                  f"no {css} showed {text!r}")

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
