"""Real failures between the client and a real relay: a WSGI front that answers server errors
a number of times (before or after letting the relay handle the request, as a proxy that loses
the answer would), and a TCP proxy that drops connections carrying a given request."""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from typing import Any


class FlakyFront:
    """A WSGI app in front of the relay: the first ``failures`` requests that match ``method``
    and ``path`` get ``status`` (an HTML page, as gunicorn or nginx send); with ``after_relay``
    the relay handles each of them first and only its answer is lost."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.method, self.path = "POST", "/api/v1/messages"
        self.failures = 0
        self.status = 503
        self.after_relay = False
        self.retry_after: str | None = None
        self.seen = 0
        self.lock = threading.Lock()

    def fail(self, failures: int, status: int = 503, *, method: str = "POST",
             path: str = "/api/v1/messages", after_relay: bool = False,
             retry_after: str | None = None) -> None:  # fmt: skip
        """Start failing; ``seen`` counts the matching requests from now on."""
        with self.lock:
            self.failures, self.status, self.after_relay = failures, status, after_relay
            self.method, self.path, self.retry_after = method, path, retry_after
            self.seen = 0

    def _take(self, environ: dict[str, Any]) -> bool:
        matches = environ["REQUEST_METHOD"] == self.method and environ["PATH_INFO"] == self.path
        with self.lock:
            if not matches:
                return False
            self.seen += 1
            if self.failures <= 0:
                return False
            self.failures -= 1
            return True

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self._take(environ):
            return self.app(environ, start_response)
        if self.after_relay:
            answer = self.app(environ, lambda *_args, **_kwargs: None)
            try:
                for _piece in answer:
                    pass
            finally:
                getattr(answer, "close", lambda: None)()
        else:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        page = f"<html><body><h1>{self.status}</h1></body></html>".encode()
        headers = [("Content-Type", "text/html"), ("Content-Length", str(len(page)))]
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        start_response(f"{self.status} Failing", headers)
        return [page]


class _Pump(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        proxy = self.server.proxy
        client: socket.socket = self.request
        with socket.create_connection(proxy.upstream) as upstream:
            sockets = [client, upstream]
            while not proxy.closing.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.1)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client and proxy.drop(data):
                        return  # close without an answer: the connection is lost
                    (upstream if source is client else client).sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: DroppingProxy


class DroppingProxy:
    """A TCP proxy to ``upstream`` that drops the connection of the first ``drops`` requests
    starting with ``prefix`` (the relay never sees them)."""

    def __init__(self, upstream: tuple[str, int], prefix: bytes, drops: int) -> None:
        self.upstream, self.prefix, self.drops = upstream, prefix, drops
        self.dropped = 0
        self.closing = threading.Event()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Pump)
        self.server.proxy = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def drop(self, data: bytes) -> bool:
        """Whether this piece of a request is to be dropped with its connection."""
        with self.lock:
            if self.dropped < self.drops and data.startswith(self.prefix):
                self.dropped += 1
                return True
            return False

    def __enter__(self) -> DroppingProxy:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
