"""A TCP proxy in front of Kaiwa that misbehaves the way networks and proxies do, so that the
page's reconnects and error handling can be tested: it cuts every open connection at once,
and it can hold, answer, lose or cut the next request of a kind (`fault_next`)."""

import json
import socket
import threading

REASONS = {200: "OK", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class Fault:
    """What happens to the next request that starts with `request_start` (see `fault_next`)."""

    def __init__(self, request_start, action, status, body):
        self.request_start = request_start.encode()
        self.action = action
        self.status = status
        self.body = body
        self.arrived = threading.Event()
        self.released = threading.Event()

    def wait_arrived(self, timeout=40):
        assert self.arrived.wait(timeout), f"no {self.request_start.decode()!r} request reached the proxy"

    def release(self):
        self.released.set()

    def answer(self):
        body = json.dumps(self.body).encode()
        head = (f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Error')}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        return head.encode() + body


class _Link:
    """One browser connection and its connection to Kaiwa."""

    def __init__(self, client, upstream):
        self.client = client
        self.upstream = upstream
        self.cut_on_answer = False
        self.closed = False
        self.lock = threading.Lock()

    def close(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class DroppingProxy:
    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.links = set()
        self.faults = []
        self.lock = threading.Lock()
        self.running = True

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def drop_connections(self):
        """Cuts every connection open now; new ones are accepted as before."""
        with self.lock:
            links, self.links = self.links, set()
        for link in links:
            link.close()
        return len(links)

    def fault_next(self, request_start, action, status=503, body=None):
        """The next request whose first line starts with `request_start` (such as
        "POST /chat/stream"):

            "hold"    waits in the proxy until `fault.release()`, then goes on
            "answer"  gets `status` and the JSON `body` from the proxy; Kaiwa never sees it
            "lose"    never reaches Kaiwa: its connection closes without an answer
            "cut"     reaches Kaiwa, but its connection closes as Kaiwa begins to answer

        Before "lose" and "cut", the connections open now are cut, so that the browser sends the
        request on a new one (Chromium sends a request again by itself when a kept-alive
        connection it reused closes before answering)."""
        if body is None:
            body = {"error": "service_unavailable", "message": "The proxy says no."}
        fault = Fault(request_start, action, status, body)
        if action in ("lose", "cut"):
            self.drop_connections()
        with self.lock:
            self.faults.append(fault)
        return fault

    def stop(self):
        self.running = False
        self.listener.close()
        with self.lock:
            faults, self.faults = self.faults, []
        for fault in faults:
            fault.release()
        self.drop_connections()

    def _take_fault(self, data):
        with self.lock:
            for fault in self.faults:
                if data.startswith(fault.request_start):
                    self.faults.remove(fault)
                    return fault
        return None

    def _accept(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            link = _Link(client, upstream)
            with self.lock:
                self.links.add(link)
            threading.Thread(target=self._forward_requests, args=(link,), daemon=True).start()
            threading.Thread(target=self._forward_answers, args=(link,), daemon=True).start()

    def _forward_requests(self, link):
        try:
            while data := link.client.recv(65536):
                fault = self._take_fault(data)
                if fault:
                    fault.arrived.set()
                    if fault.action == "hold":
                        fault.released.wait(120)
                    elif fault.action == "answer":
                        link.client.sendall(fault.answer())
                        link.client.shutdown(socket.SHUT_WR)
                        link.client.settimeout(5)
                        while link.client.recv(65536):
                            pass  # the rest of the request, until the browser hangs up
                        break
                    elif fault.action == "lose":
                        break
                    elif fault.action == "cut":
                        link.cut_on_answer = True
                link.upstream.sendall(data)
        except OSError:
            pass
        self._close(link)

    def _forward_answers(self, link):
        try:
            while data := link.upstream.recv(65536):
                if link.cut_on_answer:
                    break
                link.client.sendall(data)
        except OSError:
            pass
        self._close(link)

    def _close(self, link):
        link.close()
        with self.lock:
            self.links.discard(link)
