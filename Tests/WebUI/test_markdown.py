"""The Markdown renderer (web/ui/markdown.js) on its own, in the browser: the output's HTML
for small inputs, including the awkward ones chat answers contain."""

import pytest

RENDER = """
const done = arguments[arguments.length - 1];
import('./ui/markdown.js').then(({ renderMarkdown }) => {
  done(arguments[0].map(source => {
    const box = document.createElement('div');
    box.append(renderMarkdown(source));
    return box.innerHTML;
  }));
}, error => done('import failed: ' + error));
"""

CASES = [
    ("**太字**です", "<p><strong>太字</strong>です</p>"),
    ("snake_case_name and __init__", "<p>snake_case_name and <strong>init</strong></p>"),
    ("2 * 3 * 4", "<p>2 * 3 * 4</p>"),
    ("***both*** and *a **b** c*", "<p><strong><em>both</em></strong> and <em>a <strong>b</strong> c</em></p>"),
    ("`a <b> c` and ``x ` y``", "<p><code>a &lt;b&gt; c</code> and <code>x ` y</code></p>"),
    ("\\*not emphasis\\*", "<p>*not emphasis*</p>"),
    ("line one\nline two", "<p>line one<br>line two</p>"),
    ("<b>bold?</b> & <i>", "<p>&lt;b&gt;bold?&lt;/b&gt; &amp; &lt;i&gt;</p>"),
    ("[wiki](https://en.wikipedia.org/wiki/Swift_(language))",
     '<p><a href="https://en.wikipedia.org/wiki/Swift_(language)" target="_blank" rel="noopener noreferrer">wiki</a></p>'),
    ("see https://example.com/a.",
     '<p>see <a href="https://example.com/a" target="_blank" rel="noopener noreferrer">https://example.com/a</a>.</p>'),
    ("詳細はhttps://connpass.com/event/1/をご覧ください",
     '<p>詳細は<a href="https://connpass.com/event/1/" target="_blank" rel="noopener noreferrer">'
     "https://connpass.com/event/1/</a>をご覧ください</p>"),
    ("[x](javascript:alert(1)) [y](JAVASCRIPT:alert(1)) [z](/relative) [w](  javascript:x)",
     "<p>[x](javascript:alert(1)) [y](JAVASCRIPT:alert(1)) [z](/relative) [w](  javascript:x)</p>"),
    ("[e](&#106;avascript:alert(1)) [f](data:text/html,<script>alert(1)</script>) <data:text/html,x>",
     "<p>[e](&amp;#106;avascript:alert(1)) [f](data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;) &lt;data:text/html,x&gt;</p>"),
    ("![cat](https://example.com/cat.png)",
     '<p><a href="https://example.com/cat.png" target="_blank" rel="noopener noreferrer">cat</a></p>'),
    ("# Title #\n###### six", "<h1>Title</h1><h6>six</h6>"),
    ("- a\n- b\n\n1. x\n2. y", '<ul class="tight"><li><p>a</p></li><li><p>b</p></li></ul>'
                              '<ol class="tight"><li><p>x</p></li><li><p>y</p></li></ol>'),
    ("3. three\n4. four", '<ol start="3" class="tight"><li><p>three</p></li><li><p>four</p></li></ol>'),
    ("1. step\n   - detail\n2. next", '<ol class="tight"><li><p>step</p><ul class="tight"><li><p>detail</p></li></ul></li>'
                                     "<li><p>next</p></li></ol>"),
    ("> quoted\n> **more**", "<blockquote><p>quoted<br><strong>more</strong></p></blockquote>"),
    ("---", "<hr>"),
    ("| a | b |\n|---|--:|\n| `x\\|y` | 2 |",
     '<div class="table-wrap" tabindex="0"><table><thead><tr><th>a</th><th style="text-align: right;">b</th></tr>'
     '</thead><tbody><tr><td><code>x|y</code></td><td style="text-align: right;">2</td></tr></tbody></table></div>'),
]


@pytest.fixture
def render(page):
    def render(*sources):
        result = page.driver.execute_async_script(RENDER, list(sources))
        assert isinstance(result, list), result
        return result
    return render


@pytest.mark.parametrize("source, html", CASES, ids=[case[0][:30] for case in CASES])
def test_markdown_renders_as_expected(render, source, html):
    assert render(source) == [html]


def test_code_blocks_keep_their_text_and_an_open_fence_runs_to_the_end(render):
    closed, still_streaming = render("```js\nif (a < b) { x(); }\n```\nafter", "text\n```\nunfinished <code>")
    assert '<code data-language="js">if (a &lt; b) { x(); }</code>' in closed
    assert closed.endswith("<p>after</p>")
    assert "<code>unfinished &lt;code&gt;</code>" in still_streaming
    assert 'class="copy-button"' in closed


def test_nothing_rendered_carries_event_handlers_or_unsafe_links(page):
    found = page.driver.execute_async_script(INSPECT, [
        '<img src=x onerror="alert(1)">',
        "<script>alert(1)</script>",
        "[a](javascript:alert(1)) <a href=\"javascript:alert(1)\">b</a>",
        "[g](&#106;avascript:alert(1)) [h](&#x6A;avascript:alert(1)) [i](data:image/svg+xml,<svg onload=alert(1)>)",
        "[c](data:text/html;base64,PHNjcmlwdD4=) [d](vbscript:x) [e](file:///etc/passwd)",
        "| <img src=x onerror=alert(1)> |\n|---|\n| x |",
        "<https://ok.example> <javascript:alert(1)> [f](https://ok.example/f)",
    ])
    assert isinstance(found, dict), found
    assert set(found["tags"]) <= {"P", "BR", "A", "DIV", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD"}
    assert set(found["attributes"]) <= {"href", "target", "rel", "class", "tabindex"}
    assert found["hrefs"] == ["https://ok.example/", "https://ok.example/f"]


INSPECT = """
const done = arguments[arguments.length - 1];
import('./ui/markdown.js').then(({ renderMarkdown }) => {
  const box = document.createElement('div');
  for (const source of arguments[0]) box.append(renderMarkdown(source));
  const elements = [...box.querySelectorAll('*')];
  done({
    tags: elements.map(e => e.tagName),
    attributes: elements.flatMap(e => [...e.attributes].map(a => a.name)),
    hrefs: [...box.querySelectorAll('a')].map(a => a.href),
  });
}, error => done('import failed: ' + error));
"""


def test_code_blocks_without_a_language_are_labelled_in_the_pages_language(page, render):
    code_label = '<span class="code-language" data-i18n="code">{}</span>'
    assert code_label.format("code") in render("```\nplain\n```")[0]
    assert '<span class="code-language">python</span>' in render("```python\nx = 1\n```")[0]
    page.find("#language-picker option[value='ja']").click()
    page.wait(lambda d: page.js("return document.documentElement.lang") == "ja")
    assert code_label.format("コード") in render("```\nplain\n```")[0]


# Each would take seconds (or overflow the stack) if a scan started again at every character.
LONG_RUNS = {
    "brackets": "[" * 5000,
    "stars": "*" * 5000,
    "closed brackets": "[" * 5000 + "]" * 5000,
    "images": "![" * 5000,
    "unclosed links": "[a](" * 5000,
    "unclosed titles": "[a](b (" * 5000,
    "stars between words": "*a " * 5000,
    "double stars": "**a " * 5000,
    "underscores": "_a " * 5000,
    "tildes": "~~a " * 5000,
    "backticks": "``a `" * 5000,
    "heading spaces": "# a" + " " * 5000 + "x",
    "nested quotes": "> " * 5000 + "deep",
    "nested lists": "1. " * 5000 + "deep",
}


def test_long_runs_of_brackets_and_stars_render_quickly(page):
    timings = page.driver.execute_async_script(TIME_RENDERS, LONG_RUNS)
    assert isinstance(timings, dict), timings
    slow = {name: milliseconds for name, milliseconds in timings.items() if not milliseconds < 1000}
    assert slow == {}, f"rendering took too long (ms): {slow}"


TIME_RENDERS = """
const done = arguments[arguments.length - 1];
import('./ui/markdown.js').then(({ renderMarkdown }) => {
  const timings = {};
  for (const [name, source] of Object.entries(arguments[0])) {
    const start = performance.now();
    try {
      document.createElement('div').append(renderMarkdown(source));
      timings[name] = Math.round(performance.now() - start);
    } catch (error) {
      timings[name] = String(error);
    }
  }
  done(timings);
}, error => done('import failed: ' + error));
"""
