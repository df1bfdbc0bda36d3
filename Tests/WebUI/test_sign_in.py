"""Signing in on the page when the server wants it (`auth.mode=jwt,api-key`): through the
identity provider (authorization code with PKCE, against a fake provider shaped like
Cognito's hosted UI) or with an API key; staying signed in across reloads and token
refreshes; a refused token or refresh bringing the sign-in back without losing the message
being typed; signing out; and each user seeing only their own conversations."""

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from chat_page import ChatPage


def open_signed_out(browser, server):
    """The page with nothing remembered: no tokens, no conversation, no provider cookie."""
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(server.url)
    browser.execute_script("localStorage.clear(); sessionStorage.clear()")
    browser.get(server.url)
    page = ChatPage(browser, server.url)
    page.wait_auth("signed-out")
    page.wait(lambda d: page.sign_in_shown())
    return page


def sign_in_with_provider(page, oidc, username=None):
    """Clicks "Sign in", signs in at the provider as `username` (None: the provider still
    knows the browser and sends it straight back), and waits for the page's data."""
    page.click("#sign-in-oidc")
    if username is not None:
        page.wait(lambda d: d.current_url.startswith(oidc.issuer) and d.find_elements(By.ID, "username"),
                  message="the provider's sign-in form never showed")
        field = page.driver.find_element(By.ID, "username")
        field.send_keys(username)
        page.driver.find_element(By.ID, "fake-sign-in").click()
    page.wait_auth("signed-in")
    page.wait_ready()


def sign_in_with_key(page, key):
    field = page.find("#api-key-input")
    field.clear()
    field.send_keys(key, Keys.ENTER)


def sidebar_titles(page):
    return [element.text for element in page.find_all("#session-list .session-title")]


def account_name(page):
    return page.find("#account-name").text


def credentials(page):
    return json.loads(page.session_item("kaiwa.auth") or "null")


def test_without_sign_in_the_page_shows_none_of_it(page, kaiwa):
    assert kaiwa.get_json("api/auth/config")["mode"] == "none"
    assert page.auth_state() == "none"
    assert not page.sign_in_shown()
    assert not page.find("#account").is_displayed()
    assert page.session_item("kaiwa.auth") is None


def test_sign_in_through_the_provider_chat_reload_refresh_and_sign_out(browser, oidc, auth_kaiwa):
    oidc.expires_in = 15  # renewed about 4 s before it expires
    try:
        page = open_signed_out(browser, auth_kaiwa)
        # Both ways in, the provider's first; nothing of the page's data is loaded yet.
        assert page.find("#sign-in-oidc").is_displayed()
        assert page.find("#api-key-input").is_displayed()
        assert page.find("#api-key-input").get_attribute("type") == "password"
        assert page.find("#sign-in-or").is_displayed()
        assert browser.switch_to.active_element.get_attribute("id") == "sign-in-oidc"
        assert page.js("return document.body.dataset.ready ?? null") is None
        page.screenshot("sign-in")

        sign_in_with_provider(page, oidc, "alice")
        asked = oidc.authorize_requests[-1]
        assert asked["code_challenge_method"] == "S256"
        assert asked["redirect_uri"] == auth_kaiwa.url
        assert asked["scope"] == "openid email profile"
        assert asked["state"] and asked["nonce"] and asked["state"] != asked["nonce"]
        assert browser.current_url == auth_kaiwa.url, "the code and state left the address bar"
        assert account_name(page) == "Alice Example"
        assert oidc.grants("authorization_code") >= 1

        # Tokens live in this tab's sessionStorage, never in localStorage.
        first = credentials(page)
        assert first["accessToken"] in oidc.issued_access_tokens
        assert page.session_item("kaiwa.auth.pending") is None, "the PKCE verifier is used once"
        stored = json.dumps(page.local_items())
        assert "eyJ" not in stored and first["refreshToken"] not in stored

        page.send("Hello from Alice")
        page.wait_for_replies(1)
        assert "Echo: Hello from Alice" in page.reply_text()
        page.screenshot("signed-in")

        # A reload stays signed in, in the same conversation, without the provider.
        codes = oidc.grants("authorization_code")
        page.reload()
        assert page.auth_state() == "signed-in"
        assert page.user_messages() == ["Hello from Alice"]
        page.wait(lambda d: "Hello from Alice" in sidebar_titles(page))
        assert oidc.grants("authorization_code") == codes

        # The access token is renewed before it expires; the page goes on with the new one.
        page.wait(lambda d: oidc.grants("refresh_token") >= 1, message="the token was never refreshed")
        page.wait(lambda d: credentials(page)["accessToken"] != first["accessToken"])
        renewed = credentials(page)
        assert renewed["accessToken"] in oidc.issued_access_tokens
        assert renewed["refreshToken"] == first["refreshToken"], "Cognito keeps the refresh token"
        assert page.auth_state() == "signed-in" and not page.sign_in_shown()
        page.send("After the refresh")
        page.wait_for_replies(2)
        assert "Echo: After the refresh" in page.reply_text()
        assert oidc.grants("refresh_token", ok=False) == 0

        # Signing out goes through the provider's sign-out page and back.
        page.click("#sign-out")
        page.wait_auth("signed-out")
        page.wait(lambda d: page.sign_in_shown())
        assert browser.current_url == auth_kaiwa.url
        assert oidc.logouts[-1] == {"client_id": oidc.client_id, "logout_uri": auth_kaiwa.url,
                                    "post_logout_redirect_uri": auth_kaiwa.url}
        assert page.session_item("kaiwa.auth") is None
        assert page.session_id() is None, "the next person here does not open this conversation"
        assert not page.find("#account").is_displayed()
    finally:
        oidc.expires_in = 3600


def test_a_refused_token_brings_sign_in_back_and_keeps_the_message(browser, oidc, auth_kaiwa):
    page = open_signed_out(browser, auth_kaiwa)
    sign_in_with_provider(page, oidc, "carol")
    page.send("Carol's first message")
    page.wait_for_replies(1)
    session = page.session_id()

    # The provider changes its signing key and Kaiwa restarts: the page's token is no good.
    oidc.rotate_key()
    auth_kaiwa.restart()
    page.send("My unsent draft")
    page.wait_auth("signed-out")
    page.wait(lambda d: page.sign_in_shown())
    page.wait(lambda d: page.input.get_property("value") == "My unsent draft", message="the message was lost")
    assert "Sign in again" in page.find("#sign-in-body").text
    assert browser.switch_to.active_element.get_attribute("id") == "sign-in-oidc"
    page.screenshot("sign-in-again")

    # The provider still knows the browser: straight back, signed in, the message in the box.
    sign_in_with_provider(page, oidc)
    assert page.input.get_property("value") == "My unsent draft"
    assert page.session_item("kaiwa.draft") is None
    assert page.session_id() == session
    assert page.user_messages() == ["Carol's first message"]
    page.input.send_keys(Keys.ENTER)
    page.wait_for_replies(2)
    assert "Echo: My unsent draft" in page.reply_text()


def test_a_refused_refresh_brings_sign_in_back(browser, oidc, auth_kaiwa):
    oidc.expires_in = 8
    try:
        page = open_signed_out(browser, auth_kaiwa)
        sign_in_with_provider(page, oidc, "gina")
        page.type("half-written thought")
        oidc.refresh_fails = True
        page.wait_auth("signed-out")
        page.wait(lambda d: page.sign_in_shown())
        assert oidc.grants("refresh_token", ok=False) >= 1
        assert page.session_item("kaiwa.auth") is None
        oidc.refresh_fails = False
        sign_in_with_provider(page, oidc)
        assert page.input.get_property("value") == "half-written thought"
    finally:
        oidc.refresh_fails = False
        oidc.expires_in = 3600


def test_sign_in_with_an_api_key_and_its_revocation(browser, auth_kaiwa):
    key = auth_kaiwa.create_api_key("dave", "laptop")
    page = open_signed_out(browser, auth_kaiwa)

    sign_in_with_key(page, "kw_" + "x" * 43)
    page.wait_for_text("#sign-in-error", "not accepted")
    assert page.auth_state() == "signed-out"
    assert browser.switch_to.active_element.get_attribute("id") == "api-key-input"

    sign_in_with_key(page, key)
    page.wait_auth("signed-in")
    page.wait_ready()
    assert not page.sign_in_shown()
    assert account_name(page) == "dave (laptop)"
    assert page.find("#api-key-input").get_property("value") == ""
    assert key not in json.dumps(page.local_items())
    assert credentials(page) == {"method": "api_key", "key": key}

    page.send("Dave's message")
    page.wait_for_replies(1)
    assert "Echo: Dave's message" in page.reply_text()
    page.reload()
    assert page.auth_state() == "signed-in"
    assert page.user_messages() == ["Dave's message"]

    # The key is revoked: the next request is refused, and the message waits in the box.
    assert auth_kaiwa.revoke_api_keys("dave") == 1
    page.send("Dave's draft")
    page.wait_auth("signed-out")
    page.wait(lambda d: page.sign_in_shown())
    page.wait(lambda d: page.input.get_property("value") == "Dave's draft")
    sign_in_with_key(page, auth_kaiwa.create_api_key("dave", "laptop"))
    page.wait_auth("signed-in")
    page.wait_ready()
    assert page.input.get_property("value") == "Dave's draft"
    page.wait(lambda d: page.user_messages() == ["Dave's message"])


def test_a_used_up_allowance_is_said_in_words_and_keeps_the_message(browser, auth_kaiwa):
    page = open_signed_out(browser, auth_kaiwa)
    sign_in_with_key(page, auth_kaiwa.create_api_key("rita"))
    page.wait_auth("signed-in")
    page.wait_ready()
    page.send("One reply is all I get")
    page.wait_for_replies(1)
    page.send("And one more")
    page.wait_for_replies(2)
    page.wait_for_text("#messages .reply-status-error", "today's allowance")
    assert page.input.get_property("value") == "And one more"
    assert page.auth_state() == "signed-in" and not page.sign_in_shown()


def test_two_users_see_only_their_own_conversations(browser, oidc, auth_kaiwa):
    page = open_signed_out(browser, auth_kaiwa)
    sign_in_with_provider(page, oidc, "erin")
    page.send("Erin's secret plan")
    page.wait_for_replies(1)
    page.wait(lambda d: "Erin's secret plan" in sidebar_titles(page))

    page.click("#sign-out")
    page.wait_auth("signed-out")
    # The provider forgot the browser too: its form asks who signs in.
    sign_in_with_provider(page, oidc, "frank")
    assert account_name(page) == "Frank Example"
    assert "Erin's secret plan" not in sidebar_titles(page)
    assert page.user_messages() == []
    assert page.find("#welcome").is_displayed()
    page.send("Frank's note")
    page.wait_for_replies(1)
    page.wait(lambda d: sidebar_titles(page) == ["Frank's note"])

    page.click("#sign-out")
    page.wait_auth("signed-out")
    sign_in_with_provider(page, oidc, "erin")
    page.wait(lambda d: sidebar_titles(page) == ["Erin's secret plan"])


def test_a_sign_in_answer_the_page_did_not_ask_for_is_refused(browser, oidc, auth_kaiwa):
    page = open_signed_out(browser, auth_kaiwa)
    requests = len(oidc.token_requests)
    browser.get(auth_kaiwa.url + "?code=stolen-code&state=forged-state")
    page.wait_auth("signed-out")
    page.wait_for_text("#sign-in-error", "does not belong to a sign-in this page started")
    assert browser.current_url == auth_kaiwa.url
    assert len(oidc.token_requests) == requests, "the code was never traded"

    # The screen speaks Japanese too, and Escape does not close it.
    for control in ("#sign-in-language", "#api-key-input", "#sign-in-oidc"):
        page.find(control).send_keys(Keys.ESCAPE)
        assert page.sign_in_shown()
        assert browser.switch_to.active_element == page.find(control)
    page.js("const s = document.getElementById('sign-in-language'); s.value = 'ja'; s.dispatchEvent(new Event('change'))")
    assert page.find("#sign-in-title").text == "Kaiwa にサインイン"
    assert page.find("#sign-in-oidc").text == "サインイン"
    page.screenshot("sign-in-ja")
    page.js("localStorage.removeItem('kaiwa.language')")
