"""A TCP proxy in front of Kaiwa that can cut every open connection at once, the way a
flaky network or a proxy's timeout does, so that the page's reconnect can be tested."""

import socket
import threading


class DroppingProxy:
    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.connections = set()
        self.lock = threading.Lock()
        self.running = True

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def drop_connections(self):
        """Cuts every connection open now; new ones are accepted as before."""
        with self.lock:
            sockets, self.connections = self.connections, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        return len(sockets)

    def stop(self):
        self.running = False
        self.listener.close()
        self.drop_connections()

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
            with self.lock:
                self.connections.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, source, destination):
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        for sock in (source, destination):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        source.close()  # each socket is the source of one pipe, so each is closed once
        with self.lock:
            self.connections.discard(source)
            self.connections.discard(destination)
