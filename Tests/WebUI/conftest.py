"""Fixtures of the browser tests: the fake model, real Kaiwa servers, headless Chromium."""

import json
import re

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from chat_page import DESKTOP, ChatPage
from dropping_proxy import DroppingProxy
from fake_oidc import FakeOIDC
from fake_openai import FakeOpenAI
from kaiwa_server import KaiwaServer

# What Chromium logs for error answers the page expects (404, 408, 503) and cut connections.
NETWORK_NOISE = re.compile(r"Failed to load resource|net::ERR_")


@pytest.fixture(scope="session")
def fake_model():
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def release_holds(fake_model):
    """Whatever a test held in the fake model goes on after it (so no answer waits for ever)."""
    yield
    fake_model.release_all()


@pytest.fixture(scope="session")
def kaiwa(fake_model, tmp_path_factory):
    """Kaiwa as people run it (SQLite store), talking to the fake model."""
    server = KaiwaServer(tmp_path_factory.mktemp("kaiwa"), fake_model.base_url).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def strict_kaiwa(fake_model, tmp_path_factory):
    """Kaiwa with short limits: sessions expire after 3 s idle, the model must start within
    4 s, and a failed model call is not retried."""
    server = KaiwaServer(
        tmp_path_factory.mktemp("strict"), fake_model.base_url, name="strict",
        extra_env={
            "KAIWA_SESSION_IDLE_TIMEOUT": "3",
            "KAIWA_MODEL_FIRST_TOKEN_TIMEOUT": "4",
            "KAIWA_MODEL_MAX_ATTEMPTS": "1",
        },
    ).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_kaiwa(fake_model, tmp_path):
    """A Kaiwa of its own, with no conversations from other tests (its model named as a
    local Ollama model would be, for the README's screenshot)."""
    server = KaiwaServer(tmp_path, fake_model.base_url, name="fresh", extra_env={"KAIWA_MODEL": "openai:llama3.2"}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oidc():
    """A fake OpenID Connect provider shaped like Cognito's hosted UI."""
    fake = FakeOIDC().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def auth_kaiwa(fake_model, oidc, tmp_path_factory):
    """Kaiwa that wants callers to sign in, with the fake provider's tokens or an API key.
    The user `rita` may use 10 model tokens a day (one reply)."""
    workdir = tmp_path_factory.mktemp("auth")
    limits = workdir / "limits.json"
    limits.write_text(json.dumps({"users": {"rita": {"tokens_per_day": 10}}}))
    server = KaiwaServer(
        workdir, fake_model.base_url, name="auth",
        extra_env={
            "KAIWA_LIMITS_PATH": str(limits),
            "KAIWA_AUTH_MODE": "jwt,api-key",
            "KAIWA_AUTH_JWT_DISCOVERY_URL": oidc.discovery_url,
            "KAIWA_AUTH_JWT_ALLOWED_CLIENTS": oidc.client_id,
            "KAIWA_AUTH_JWT_ALLOWED_AUDIENCES": oidc.client_id,
            "KAIWA_AUTH_OIDC_CLIENT_ID": oidc.client_id,
        },
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,860", "--lang=en-US", "--hide-scrollbars"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    browser.set_page_load_timeout(60)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()


@pytest.fixture
def browser(driver):
    """The browser, back to a desktop window, English, light theme, after each test; the
    test fails when the page logged a JavaScript error."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
    driver.get_log("browser")  # forget what earlier tests logged
    yield driver
    errors = [entry["message"] for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE" and not NETWORK_NOISE.search(entry["message"])]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    user_agent = driver.execute_script("return navigator.userAgent")
    driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": user_agent, "acceptLanguage": "en-US,en"})
    driver.get("about:blank")
    assert errors == [], "the page logged errors"


@pytest.fixture
def page(browser, kaiwa):
    """The chat page of `kaiwa`, freshly opened (no remembered session)."""
    return ChatPage(browser, kaiwa.url).open()


@pytest.fixture
def proxy(kaiwa):
    """A proxy in front of `kaiwa` that can cut, hold and answer requests."""
    proxy = DroppingProxy(kaiwa.port).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_page(browser, proxy):
    """The chat page, opened through `proxy`."""
    return ChatPage(browser, proxy.url).open()
