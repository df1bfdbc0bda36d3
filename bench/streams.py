"""Streaming benchmark (issue 3): N concurrent SSE streams or WebSocket conversations
against `kaiwa-paced-server` (20-byte chunk every 30 ms for 10 s). Reports the server's
peak resident memory and the gaps between chunks as the clients saw them.

Usage: python3 bench/streams.py sse|ws N PORT SERVER_PID
"""
import asyncio, json, os, statistics, sys, time

mode, count, port, server_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
gaps, completed, failures, peak_rss = [], 0, 0, 0


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


async def sse_stream(index):
    global completed, failures
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = json.dumps({"message": f"bench {index}"}).encode()
        writer.write(b"POST /chat/stream HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        last, buffer = None, b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            now = time.perf_counter()
            buffer += data
            deltas = buffer.count(b"event: delta")
            done = b"event: done" in buffer
            buffer = buffer[buffer.rfind(b"\n\n") + 2:] if b"\n\n" in buffer else buffer
            if deltas:
                if last is not None:
                    gaps.append(now - last)
                last = now
            if done:
                completed += 1
                break
        writer.close()
    except Exception:
        failures += 1


async def ws_stream(index):
    global completed, failures
    import websockets
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**20) as socket:
            await socket.send(json.dumps({"action": "sendMessage", "message": f"bench {index}"}))
            last = None
            async for message in socket:
                now = time.perf_counter()
                event = json.loads(message)
                if event.get("type") == "delta":
                    if last is not None:
                        gaps.append(now - last)
                    last = now
                elif event.get("type") in ("done", "error"):
                    completed += 1 if event["type"] == "done" else 0
                    break
    except Exception:
        failures += 1


async def watch_memory():
    global peak_rss
    while True:
        peak_rss = max(peak_rss, rss_kb(server_pid))
        await asyncio.sleep(0.25)


async def main():
    watcher = asyncio.create_task(watch_memory())
    start = time.perf_counter()
    task = sse_stream if mode == "sse" else ws_stream
    streams = []
    for index in range(count):
        streams.append(asyncio.create_task(task(index)))
        if index % 200 == 199:
            await asyncio.sleep(0.05)
    await asyncio.gather(*streams)
    watcher.cancel()
    gaps.sort()
    p = lambda q: gaps[min(len(gaps) - 1, int(len(gaps) * q))] * 1000 if gaps else float("nan")
    print(f"{mode}: {count} streams, {completed} completed, {failures} failed in {time.perf_counter() - start:.1f} s; "
          f"chunk gap p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {p(1.0):.1f} ms; "
          f"server peak RSS {peak_rss / 1024:.0f} MB")

asyncio.run(main())
