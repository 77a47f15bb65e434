"""A small TCP proxy for tests: forwards a local port to a server, and can cut and restore it.

``cut()`` closes the listening socket and every open connection, so the server looks down (new
connections are refused, open ones break); ``restore()`` listens again on the same port. One
thread runs a selector loop; ``close()`` stops it and closes every socket.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``(host, port)``; cut and restore on demand."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._wake_read, self._wake_write = socket.socketpair()
        self._selector.register(self._wake_read, selectors.EVENT_READ, "wake")
        self._listener: socket.socket | None = None
        self._commands: list[str] = []
        self._done = threading.Event()
        self.port = self._listen(0)
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)
        self._thread.start()

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "accept")
        return int(listener.getsockname()[1])

    # -- commands, carried out by the loop thread ---------------------------------------------

    def _command(self, name: str) -> None:
        self._done.clear()
        with self._lock:
            self._commands.append(name)
        self._wake_write.send(b"x")
        if not self._done.wait(5):
            raise RuntimeError(f"the proxy did not {name} in time")

    def cut(self) -> None:
        """Refuse new connections and break every open one."""
        self._command("cut")

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        self._command("restore")

    def close(self) -> None:
        """Stop the thread and close every socket."""
        if self._stopped:
            return
        self._command("stop")
        self._thread.join(5)
        self._stopped = True
        self._wake_write.close()
        self._selector.close()

    # -- the loop -----------------------------------------------------------------------------

    def _drop_all(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        for sock in list(self._pairs):
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        other = self._pairs.pop(sock, None)
        for each in (sock, other):
            if each is None:
                continue
            self._pairs.pop(each, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(each)
            each.close()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(False)
        self._pairs[client], self._pairs[server] = server, client
        self._selector.register(client, selectors.EVENT_READ, "pipe")
        self._selector.register(server, selectors.EVENT_READ, "pipe")

    def _pipe(self, sock: socket.socket) -> None:
        other = self._pairs.get(sock)
        if other is None:
            return
        try:
            data = sock.recv(65536)
            if data:
                other.setblocking(True)
                other.sendall(data)
                other.setblocking(False)
                return
        except OSError:
            pass
        self._drop(sock)

    def _run_commands(self) -> bool:
        self._wake_read.recv(64)
        with self._lock:
            commands, self._commands = self._commands, []
        for name in commands:
            if name in ("cut", "stop"):
                self._drop_all()
            elif name == "restore" and self._listener is None:
                self._listen(self.port)
        self._done.set()
        return "stop" not in commands

    def _loop(self) -> None:
        running = True
        while running:
            for key, _ in self._selector.select(timeout=1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if key.data == "wake":
                    running = self._run_commands()
                    break
                if key.data == "accept":
                    self._accept()
                elif sock in self._pairs:
                    self._pipe(sock)
        self._wake_read.close()
