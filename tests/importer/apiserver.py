"""The API import tests' HTTP server and helpers: downloads a test holds, meters out and counts."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit

from tests.importer.conftest import ImageServer

WAKE_SECONDS = 0.05


class HeldImageServer(ImageServer):
    """ImageServer plus routes whose pace the test sets, and counts of connections and downloads.

    Extra routes (the query string is ignored):
      /gate/<name>    1 MiB + 1 byte, then the rest once the test calls open_gate()
      /metered/<name> the file with Content-Length, but only as many bytes as the test allow()ed
    Every request counts in `active` while its handler runs; `peak` is the most at once.
    `connections` counts accepted TCP connections, with or without a request.
    """

    def __init__(self, root: Path):
        super().__init__(root)
        self._changed = threading.Condition()
        self.active = 0
        self.peak = 0
        self.connections = 0
        self.allowed = 0
        self.gate = threading.Event()
        accept = self.httpd.verify_request

        def count_connection(request, client_address) -> bool:
            with self._changed:
                self.connections += 1
            return accept(request, client_address)

        self.httpd.verify_request = count_connection

    def reset(self) -> None:
        """Forgets the last test and wakes every handler it left waiting."""
        self.release.set()
        self.gate.set()
        with self._changed:
            self.allowed = 1 << 62
            self._changed.notify_all()
        self.served.requests = []
        self.locations.clear()
        self.release = threading.Event()
        self.gate = threading.Event()
        with self._changed:
            self.allowed = 0
            self.peak = self.active
            self.connections = 0

    def allow(self, total_bytes: int) -> None:
        """Lets /metered/ downloads send up to total_bytes of their body."""
        with self._changed:
            self.allowed = total_bytes
            self._changed.notify_all()

    def open_gate(self) -> None:
        self.gate.set()

    def requests_to(self, prefix: str) -> list[str]:
        return [path for path in list(self.served.requests) if path.startswith(prefix)]

    def route(self, request) -> None:
        with self._changed:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            kind, _, name = urlsplit(request.path).path.lstrip("/").partition("/")
            if kind == "gate":
                self._gate(request, name)
            elif kind == "metered":
                self._metered(request, name)
            else:
                super().route(request)
        finally:
            with self._changed:
                self.active -= 1

    def _gate(self, request, name: str) -> None:
        data = (self.root / name).read_bytes()
        gate, release = self.gate, self.release
        self.headers(request, 200, length=len(data))
        head = 1024 * 1024 + 1
        self.send(request, data[:head])
        request.wfile.flush()
        while not gate.wait(WAKE_SECONDS):
            if release.is_set():
                return
        self.send(request, data[head:])

    def _metered(self, request, name: str) -> None:
        data = (self.root / name).read_bytes()
        release = self.release
        self.headers(request, 200, length=len(data))
        sent = 0
        while sent < len(data):
            with self._changed:
                while self.allowed <= sent and not release.is_set():
                    self._changed.wait(WAKE_SECONDS)
                upto = min(self.allowed, len(data))
            if release.is_set():
                return
            request.wfile.write(data[sent:upto])
            request.wfile.flush()
            sent = upto
