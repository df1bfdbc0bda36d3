"""Writes AWS event-stream frames, built from the format's definition, with what botocore's
decoder (the reference) makes of them, to Tests/KaiwaTests/Fixtures/eventstream-frames.json.
Good frames carry the decoded headers and payload; bad frames carry the error botocore
raised. Run: python3 scripts/aws-fixtures/make_eventstream_frames.py
"""
import base64, binascii, json, pathlib, struct, uuid

from botocore.eventstream import EventStreamBuffer


def header(name, kind, value):
    encoded = name.encode()
    out = struct.pack(">B", len(encoded)) + encoded + struct.pack(">B", kind)
    if kind in (0, 1):
        return out
    if kind == 2:
        return out + struct.pack(">b", value)
    if kind == 3:
        return out + struct.pack(">h", value)
    if kind == 4:
        return out + struct.pack(">i", value)
    if kind in (5, 8):
        return out + struct.pack(">q", value)
    if kind == 6:
        return out + struct.pack(">H", len(value)) + value
    if kind == 7:
        data = value.encode()
        return out + struct.pack(">H", len(data)) + data
    if kind == 9:
        return out + value
    raise ValueError(kind)


def frame(headers, payload):
    header_bytes = b"".join(header(*h) for h in headers)
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack(">II", total, len(header_bytes))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + header_bytes + payload
    return body + struct.pack(">I", binascii.crc32(body) & 0xFFFFFFFF)


def describe(value):
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    return {"string": value}


delta = json.dumps({"contentBlockIndex": 0, "delta": {"text": "こんにちは"}}).encode()
event_headers = [(":event-type", 7, "contentBlockDelta"), (":content-type", 7, "application/json"), (":message-type", 7, "event")]
every_type = [
    ("true", 0, True), ("false", 1, False), ("byte", 2, -7), ("short", 3, -1234), ("int", 4, 123456789),
    ("long", 5, -9007199254740993), ("bytes", 6, b"\x00\x01\xfe\xff"), ("string", 7, "ストリング"),
    ("timestamp", 8, 1763709015123), ("uuid", 9, uuid.UUID("0123e456-e89b-12d3-a456-426614174000").bytes),
]
good = [
    ("a contentBlockDelta event", frame(event_headers, delta)),
    ("every header type", frame(every_type, b"{}")),
    ("empty payload and no headers", frame([], b"")),
    ("large payload", frame(event_headers, json.dumps({"delta": {"text": "x" * 70000}}).encode())),
    ("an exception event", frame([(":message-type", 7, "exception"), (":exception-type", 7, "throttlingException"),
                                  (":content-type", 7, "application/json")], b'{"message":"Too many requests"}')),
]
sample = frame(event_headers, delta)
corrupt_prelude = bytearray(sample); corrupt_prelude[9] ^= 0xFF
corrupt_message = bytearray(sample); corrupt_message[-1] ^= 0xFF
corrupt_payload = bytearray(sample); corrupt_payload[-10] ^= 0x01
huge_length = bytearray(sample); huge_length[0:4] = struct.pack(">I", 30 * 1024 * 1024)
bad = [
    ("corrupted prelude CRC", bytes(corrupt_prelude)),
    ("corrupted message CRC", bytes(corrupt_message)),
    ("corrupted payload byte", bytes(corrupt_payload)),
    ("length over the maximum", bytes(huge_length)),
]

frames = []
for name, data in good:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    messages = list(buffer)
    assert len(messages) == 1, name
    message = messages[0]
    frames.append({"name": name, "hex": data.hex(), "ok": True,
                   "headers": {k: describe(v) for k, v in message.headers.items()},
                   "payload_hex": message.payload.hex()})
for name, data in bad:
    buffer = EventStreamBuffer()
    try:
        buffer.add_data(data)
        list(buffer)
        raise SystemExit(f"botocore accepted a bad frame: {name}")
    except SystemExit:
        raise
    except Exception as error:
        frames.append({"name": name, "hex": data.hex(), "ok": False, "error": type(error).__name__})
truncated = sample[:-5]
buffer = EventStreamBuffer(); buffer.add_data(truncated)
assert list(buffer) == []  # botocore waits for more bytes: a truncated frame is incomplete, not a message
frames.append({"name": "truncated frame", "hex": truncated.hex(), "ok": False, "error": "Truncated"})

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/KaiwaTests/Fixtures/eventstream-frames.json"
out.write_text(json.dumps(frames, ensure_ascii=False, indent=1) + "\n")
print(f"wrote {len(frames)} frames to {out}")
