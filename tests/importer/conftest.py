"""Fixtures for the importer: real disk images (built once) and a real local HTTP server."""

from __future__ import annotations

import os
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from images.importer.policy import ImportPolicy
from images.importer.store import BlobStore
from tests.importer import diskimages

BLOCK = 64 * 1024


@pytest.fixture(scope="session")
def disk_images(tmp_path_factory) -> diskimages.DiskImages:
    return diskimages.build(tmp_path_factory.mktemp("disk-images"))


@dataclass
class Served:
    """What the server saw: the request targets, with their query strings."""

    requests: list[str] = field(default_factory=list)


class ImageServer:
    """A real HTTP server on 127.0.0.1:<random port> serving files and misbehaving on purpose.

    Routes (the query string is ignored, like a pre-signed URL's signature):
      /files/<name>           the file, with Content-Length
      /chunked/<name>         the file, chunked
      /nolength/<name>        the file, no Content-Length, ended by closing
      /long/<name>            declares the file's length, then sends 1 MiB more
      /short/<name>           declares 1000 bytes more than it sends, then closes
      /slow/<name>            sends 1 MiB + 1 byte, then nothing until the test ends
      /trickle/<name>         one byte every 20 ms
      /stall                  accepts and never answers
      /huge                   declares 10 TB and sends nothing
      /gzip/<name>            the file with Content-Encoding: gzip
      /transfer-gzip/<name>   the file with Transfer-Encoding: gzip
      /badlength/<name>       Content-Length: <n>abc
      /twolengths/<name>      two different Content-Length headers
      /echo                   answers with the request line instead of a status line
      /status/<code>          that status, empty body
      /redirect/<n>/<rest>    n redirects (relative Location), then /<rest>
      /to/<key>               a redirect to self.locations[key]
    """

    def __init__(self, root: Path, tls: ssl.SSLContext | None = None):
        self.root = root
        self.scheme = "https" if tls else "http"
        self.served = Served()
        self.locations: dict[str, str] = {}
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # the test output stays quiet
                pass

            def do_GET(self):
                server.served.requests.append(self.path)
                try:
                    server.route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(ThreadingHTTPServer):
            def finish_request(self, request, client_address):
                if tls is not None:  # the handshake runs in the request's own thread
                    request = tls.wrap_socket(request, server_side=True)
                super().finish_request(request, client_address)

            def handle_error(self, request, client_address):
                pass  # clients that give up (a refused certificate, a cancel) are expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def policy(self, **overrides) -> ImportPolicy:
        settings = {
            "allowed_hosts": (f"127.0.0.1:{self.port}",),
            "allow_http": self.scheme == "http",
        } | overrides
        return ImportPolicy(**settings)

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- routes ---------------------------------------------------------------------------------

    def route(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        kind, _, rest = path.lstrip("/").partition("/")
        if kind == "status":
            return self.headers(request, int(rest), length=0)
        if kind == "redirect":
            count, _, target = rest.partition("/")
            location = f"/redirect/{int(count) - 1}/{target}" if int(count) > 1 else f"/{target}"
            return self.headers(request, 302, length=0, extra={"Location": location})
        if kind == "to":
            return self.headers(request, 302, length=0, extra={"Location": self.locations[rest]})
        if kind == "stall":
            self.release.wait(30)
            return None
        if kind == "huge":
            return self.headers(request, 200, length=10**13)
        if kind == "echo":  # a broken server that answers with the request line
            request.wfile.write(request.requestline.encode() + b"\r\n\r\n")
            return None
        if kind == "files":  # streamed from disk: this route also serves the 1 GiB memory test
            with open(self.root / rest, "rb") as file:
                self.headers(request, 200, length=os.fstat(file.fileno()).st_size)
                request.wfile.flush()
                request.connection.sendfile(file)
            return None
        data = (self.root / rest).read_bytes()
        if kind == "gzip":
            self.headers(request, 200, length=len(data), extra={"Content-Encoding": "gzip"})
            self.send(request, data)
        elif kind == "transfer-gzip":
            self.headers(request, 200, length=None, extra={"Transfer-Encoding": "gzip"})
            self.send(request, data)
        elif kind == "badlength":
            self.headers(request, 200, length=None, extra={"Content-Length": f"{len(data)}abc"})
            self.send(request, data)
        elif kind == "twolengths":
            self.headers(request, 200, length=len(data), extra={"Content-Length": str(len(data) - 1)})
            self.send(request, data)
        elif kind == "long":
            self.headers(request, 200, length=len(data))
            self.send(request, data + b"\xee" * (1024 * 1024))
        elif kind == "short":
            self.headers(request, 200, length=len(data) + 1000)
            self.send(request, data)
        elif kind == "nolength":
            self.headers(request, 200, length=None)
            self.send(request, data)
        elif kind == "chunked":
            self.headers(request, 200, length=None, extra={"Transfer-Encoding": "chunked"})
            for start in range(0, len(data), 100_000):
                piece = data[start : start + 100_000]
                request.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            request.wfile.write(b"0\r\n\r\n")
        elif kind == "slow":
            self.headers(request, 200, length=len(data))
            self.send(request, data[: 1024 * 1024 + 1])
            request.wfile.flush()
            self.release.wait(30)
        elif kind == "trickle":
            self.headers(request, 200, length=len(data))
            for index in range(len(data)):
                if self.release.wait(0.02):
                    return None
                request.wfile.write(data[index : index + 1])
                request.wfile.flush()
        else:
            self.headers(request, 404, length=0)
        return None

    def headers(self, request, status: int, *, length: int | None, extra: dict | None = None) -> None:
        request.send_response(status)
        if length is not None:
            request.send_header("Content-Length", str(length))
        for name, value in (extra or {}).items():
            request.send_header(name, value)
        request.send_header("Connection", "close")
        request.end_headers()

    def send(self, request, data: bytes) -> None:
        for start in range(0, len(data), BLOCK):
            request.wfile.write(data[start : start + BLOCK])


@pytest.fixture(scope="session")
def image_server(disk_images):
    server = ImageServer(disk_images.root)
    yield server
    server.close()


@pytest.fixture
def server(image_server):
    """The session's server with a fresh record of requests for this test."""
    image_server.served = Served()
    image_server.locations.clear()
    yield image_server
    image_server.release.set()  # wakes the handlers this test left stalling
    image_server.release = threading.Event()


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "data")


@pytest.fixture
def cancel() -> threading.Event:
    return threading.Event()
