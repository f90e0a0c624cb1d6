"""A loopback TCP proxy that a test can cut and restore, to make a server unreachable.

We cannot stop the shared PostgreSQL (or an MLflow server other tests use), so a fault test puts
this proxy between the API and the server and points the API at the proxy. :meth:`TcpProxy.cut`
closes every open connection and then either refuses new ones (``refuse``: the port is closed,
as when the server is down) or accepts and never answers them (``blackhole``: as when the
server's host vanished from the network, the case where only timeouts help).
:meth:`TcpProxy.restore` forwards again. :meth:`TcpProxy.freeze` keeps every connection open but
stops forwarding (a frozen server or hung proxy: the packets are acknowledged, nothing answers)
until :meth:`TcpProxy.thaw`. One thread accepts, two threads pump each connection.
"""

import contextlib
import socket
import threading
from typing import Literal

CutMode = Literal["refuse", "blackhole"]
_CHUNK = 65536


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    """Forward ``127.0.0.1:port`` to ``upstream``; cut and restore on demand."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._mode: Literal["open"] | CutMode = "open"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()
        self._accepter = self._start_accepting(self._listener)
        self.connections = 0
        """Connections forwarded so far."""

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.2)
        return listener

    def _start_accepting(self, listener: socket.socket) -> threading.Thread:
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        return thread

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed (cut with "refuse", or stop)
            client.settimeout(None)
            with self._lock:
                if self._mode != "open":
                    self._held.append(client)  # accepted, never answered
                    continue
            self._forward(client)

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._pairs.append((client, upstream))
            self.connections += 1
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(_CHUNK):
                self._flowing.wait()
                target.sendall(data)
        except OSError:
            pass
        _close(source)
        _close(target)

    def _drop_connections(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
            held, self._held = self._held, []
        for client, upstream in pairs:
            _close(client)
            _close(upstream)
        for client in held:
            _close(client)

    def cut(self, mode: CutMode = "refuse") -> None:
        """Close every connection; then refuse new ones, or accept and never answer them."""
        with self._lock:
            self._mode = mode
        if mode == "refuse":
            _close(self._listener)
            self._accepter.join(5)
        self._drop_connections()

    def freeze(self) -> None:
        """Keep every connection open, and accept new ones, but forward nothing."""
        self._flowing.clear()

    def thaw(self) -> None:
        """Forward again what was held, and what comes next."""
        self._flowing.set()

    def restore(self) -> None:
        """Forward new connections again (the ones held by a black hole are closed)."""
        with self._lock:
            previous, self._mode = self._mode, "open"
        if previous == "refuse":
            self._listener = self._listen(self.port)
            self._accepter = self._start_accepting(self._listener)
        self._drop_connections_held()

    def _drop_connections_held(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for client in held:
            _close(client)

    def stop(self) -> None:
        """Stop accepting and close everything."""
        self._stopped.set()
        _close(self._listener)
        self._accepter.join(5)
        self._drop_connections()

    def __enter__(self) -> "TcpProxy":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
