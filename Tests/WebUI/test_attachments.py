"""Attachments: an image chosen with the file button goes with the message to a model that
reads images and shows in the history as a thumbnail that opens full size; a file Kaiwa does
not take is refused on its chip with the server's reason."""

import base64
import struct
import zlib

import pytest

from chat_page import ChatPage
from kaiwa_server import KaiwaServer


def tiny_png(width=4, height=3):
    """A real PNG: red pixels."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def seeing_kaiwa(fake_model, tmp_path_factory):
    catalogue = {"models": [{"name": "eyes", "provider": "openai", "model": "fake-model", "base_url": fake_model.base_url, "reads": ["image"]}]}
    server = KaiwaServer(tmp_path_factory.mktemp("eyes"), fake_model.base_url, name="eyes", models=catalogue).start()
    yield server
    server.stop()


@pytest.fixture
def seeing_page(browser, seeing_kaiwa):
    page = ChatPage(browser, seeing_kaiwa.url)
    page.open()
    return page


def test_an_image_attached_with_the_file_button_is_sent_and_shown_in_the_history(seeing_page, seeing_kaiwa, tmp_path, fake_model):
    page = seeing_page
    picture = tmp_path / "kyoto.png"
    picture.write_bytes(tiny_png())
    page.find("#file-input").send_keys(str(picture))
    page.wait(lambda d: [c.text.splitlines()[0] for c in page.find_all("#pending-files .file-chip")] == ["kyoto.png"])
    page.wait(lambda d: page.find_all("#pending-files .file-chip.uploading") == [], message="the upload never ended")

    page.send("What is in this picture?")
    page.wait_for_replies(1)

    assert page.reply_text() == "Echo: What is in this picture? [1 image]"
    assert page.find_all("#pending-files .file-chip") == []
    sent = fake_model.requests[-1]["messages"][-1]["content"]
    assert sent[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    page.wait(lambda d: page.js("const i = document.querySelector('#messages .file-thumbnail img'); return !!i && i.naturalWidth === 4"))
    page.screenshot("attachment-sent")

    # After a reload the history shows the thumbnail, which opens the image full size.
    page.reload()
    page.wait(lambda d: page.js("const i = document.querySelector('#messages .file-thumbnail img'); return !!i && i.naturalWidth === 4"),
              message="no thumbnail after the reload")
    link = page.find("#messages .file-thumbnail")
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("href").startswith("blob:")
    assert link.get_attribute("aria-label") == "Open kyoto.png full size"


def test_a_file_kaiwa_does_not_take_is_refused_on_its_chip(seeing_page, tmp_path):
    page = seeing_page
    archive = tmp_path / "notes.png"
    archive.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    page.find("#file-input").send_keys(str(archive))
    page.wait(lambda d: page.find_all("#pending-files .file-chip.failed") != [], message="the chip never said it failed")
    chip = page.find("#pending-files .file-chip.failed")
    assert "notes.png is not a file Kaiwa can attach" in chip.text
    chip.find_element("css selector", ".file-remove").click()
    page.wait(lambda d: page.find_all("#pending-files .file-chip") == [])
