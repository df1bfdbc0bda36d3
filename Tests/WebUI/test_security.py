"""Nothing from a message, a tool call or a stored conversation runs as HTML."""

PAYLOAD = (
    '[xss] <img src=x onerror="window.__xss=100;document.title=\'pwned\'"> '
    "<script>window.__xss=101</script> [go](javascript:window.__xss=102)"
)

INSPECT = """
const messages = document.getElementById('messages');
return {
  xss: window.__xss === undefined ? null : window.__xss,
  title: document.title,
  handlers: [...document.querySelectorAll('*')]
    .filter(element => [...element.attributes].some(attribute => /^on/i.test(attribute.name)))
    .map(element => element.outerHTML.slice(0, 120)),
  activeElements: [...messages.querySelectorAll('script, img, iframe, object, embed, svg:not(.icon), b')]
    .map(element => element.outerHTML.slice(0, 120)),
  unsafeLinks: [...document.querySelectorAll('a')]
    .map(a => a.getAttribute('href'))
    .filter(href => !/^(https?:\\/\\/|#)/.test(href)),
  text: messages.textContent,
};
"""


def assert_inert(page):
    found = page.js(INSPECT)
    assert found["xss"] is None, "a payload ran"
    assert found["title"] == "Kaiwa"
    assert found["handlers"] == []
    assert found["activeElements"] == []
    assert found["unsafeLinks"] == []
    # The payloads are there, as text a person can read.
    for text in ('<img src=x onerror="window.__xss=100', "<script>window.__xss=101</script>",
                 "[go](javascript:window.__xss=102)", '<img src=x onerror="window.__xss=21">',
                 "<script>window.__xss=20</script>", '<a href="javascript:window.__xss=6">raw anchor</a>',
                 "[click me](javascript:window.__xss=4)", '<b onmouseover="window.__xss=9">bold?</b>',
                 "[data link](data:text/html,<script>window.__xss=5</script>)",
                 "[entity link](&#106;avascript:window.__xss=10)"):
        assert text in found["text"], text


def test_html_scripts_and_javascript_links_show_as_text_and_never_run(page):
    page.send(PAYLOAD)
    page.wait_for_replies(1)
    # The tool call's name and input, and its error result, carry payloads too.
    for call in page.find_all(".reply .tool-call summary"):
        call.click()
    page.wait(lambda d: all(e.is_displayed() for e in page.find_all(".reply .tool-result")))
    code = page.find(".reply .code-block code").text
    assert code == '<img src=x onerror="window.__xss=8">'
    for element in page.find_all("#messages .markdown, #messages .bubble"):
        element.click()  # hovering and clicking inert text does nothing either
    assert_inert(page)
    page.screenshot("security-inert")

    # Stored, then drawn again from history (and the title in the sidebar).
    page.reload()
    page.wait(lambda d: page.find_all(".reply .tool-call"))
    page.wait(lambda d: any("[xss]" in e.text for e in page.find_all("#session-list .session-title")))
    assert_inert(page)
