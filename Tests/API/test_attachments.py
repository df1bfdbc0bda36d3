"""Uploading a file over real HTTP: streamed in pieces with its Content-Length, refused
without one (a chunked body cannot be checked against the limit before it is read), and
refused while it arrives when it is longer than it said."""

import http.client
import json
import urllib.parse

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


def connection(server):
    address = urllib.parse.urlparse(server.url)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=10)


def test_a_file_sent_in_pieces_with_its_length_is_stored_whole(healthy_kaiwa):
    link = connection(healthy_kaiwa)
    link.putrequest("POST", "/api/attachments?name=" + urllib.parse.quote("写真.png"))
    link.putheader("Content-Length", str(len(PNG)))
    link.putheader("Content-Type", "application/octet-stream")
    link.endheaders()
    for start in range(0, len(PNG), 1000):
        link.send(PNG[start:start + 1000])
    response = link.getresponse()
    uploaded = json.loads(response.read())
    assert response.status == 201, uploaded
    assert uploaded["media_type"] == "image/png" and uploaded["size"] == len(PNG) and uploaded["name"] == "写真.png"
    link.request("GET", f"/api/attachments/{uploaded['id']}")
    download = link.getresponse()
    assert download.status == 200 and download.read() == PNG
    assert download.getheader("Content-Type") == "image/png"


def test_a_chunked_upload_without_a_length_is_refused(healthy_kaiwa):
    link = connection(healthy_kaiwa)
    link.request("POST", "/api/attachments?name=a.png", body=iter([PNG[:100], PNG[100:]]),
                 headers={"Content-Type": "application/octet-stream"}, encode_chunked=True)
    response = link.getresponse()
    answer = json.loads(response.read())
    assert response.status == 400
    assert answer["error"] == "bad_request" and "Content-Length" in answer["message"]
