"""Streaming HTTP(S) download of a checked URI: pinned address, re-checked redirects, limits, cancel."""

from __future__ import annotations

import errno
import functools
import http.client
import io
import logging
import os
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from urllib.parse import urljoin

from images.importer.errors import FetchFailed, ImportCancelled, ImportStalled, UrlRejected
from images.importer.policy import (
    DEFAULT_PORTS,
    ImportPolicy,
    Resolver,
    Target,
    check_url,
    redact_url,
    resolve,
)

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
# Every blocking wait wakes up this often to look at the cancel flag and the deadlines.
TICK = 0.25
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "imageservice-importer/1"


class _Failure(Exception):
    """A download failure; the text is for the log (it never holds a query string)."""


class _Clock:
    """The cancel flag, the total deadline and the minimum progress of one download."""

    def __init__(self, policy: ImportPolicy, cancel: threading.Event):
        self.policy = policy
        self.cancel = cancel
        now = time.monotonic()
        self.deadline = now + policy.total_timeout
        self.received = 0  # every byte read from the network, headers included
        # (time, bytes received) about every TICK; the oldest is the start of the progress window.
        self._samples = deque([(now, 0)])

    def check(self) -> None:
        if self.cancel.is_set():
            raise ImportCancelled()
        now = time.monotonic()
        if now > self.deadline:
            raise _Failure(f"the download took longer than {self.policy.total_timeout:g} s")
        self._check_progress(now)

    def _check_progress(self, now: float) -> None:
        """Fewer than stall_bytes in the last stall_seconds (give or take a TICK) ends the download,
        so a source that trickles gives its import slot back long before the total deadline."""
        policy = self.policy
        if policy.stall_bytes <= 0 or policy.stall_seconds <= 0:
            return
        samples = self._samples
        if now - samples[-1][0] >= TICK:
            samples.append((now, self.received))
        while len(samples) > 1 and samples[1][0] <= now - policy.stall_seconds:
            samples.popleft()
        since, received_then = samples[0]
        if now - since >= policy.stall_seconds and self.received - received_then < policy.stall_bytes:
            raise ImportStalled(
                f"the source stalled: less than {_amount(policy.stall_bytes)} arrived in "
                f"{policy.stall_seconds:g} s; try again when it is reachable at speed"
            )


def _amount(size: int) -> str:
    for unit, name in ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def _wait(sock: socket.socket, events: int, clock: _Clock, deadline: float, what: str) -> None:
    """Waits until sock is ready for events, waking every TICK; raises on cancel or at deadline."""
    poller = select.poll()
    poller.register(sock, events)
    while True:
        clock.check()
        if time.monotonic() > deadline:
            raise _Failure(f"{what} timed out")
        if poller.poll(TICK * 1000):
            return


def _connect(address: str, port: int, clock: _Clock) -> socket.socket:
    """A TCP connection to exactly this address (never a name: DNS was checked once, before)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        error = sock.connect_ex((address, port))
        if error in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
            deadline = time.monotonic() + clock.policy.connect_timeout
            _wait(sock, select.POLLOUT, clock, deadline, "connecting")
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, f"connecting failed: {os.strerror(error)}")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except BaseException:
        sock.close()
        raise


def _handshake(sock: socket.socket, hostname: str, clock: _Clock) -> ssl.SSLSocket:
    """TLS with SNI and certificate verification against the host name (or the IP literal)."""
    context = ssl.create_default_context(cafile=clock.policy.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    tls = context.wrap_socket(sock, server_hostname=hostname, do_handshake_on_connect=False)
    deadline = time.monotonic() + clock.policy.connect_timeout
    try:
        while True:
            try:
                tls.do_handshake()
                return tls
            except ssl.SSLWantReadError:
                _wait(tls, select.POLLIN, clock, deadline, "the TLS handshake")
            except ssl.SSLWantWriteError:
                _wait(tls, select.POLLOUT, clock, deadline, "the TLS handshake")
    except BaseException:
        tls.close()
        raise


class _PatientReader(io.RawIOBase):
    """Socket reads that survive short timeouts: each TICK they check cancel and the deadlines.

    http.client's own socket file gives up for good at the first timeout, so the response reads
    through this instead; a slow server can then neither hold a cancelled import nor stall it forever.
    """

    def __init__(self, sock: socket.socket, clock: _Clock, socket_file):
        super().__init__()
        self._sock = sock
        self._clock = clock
        # Holding the socket's own file keeps the socket open after HTTPConnection.close(), which
        # hands the socket over to the response (the way http.client itself does it).
        self._socket_file = socket_file

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._socket_file.close()
        super().close()

    def readinto(self, buffer) -> int:
        idle_deadline = time.monotonic() + self._clock.policy.read_timeout
        while True:
            self._clock.check()
            try:
                received = self._sock.recv_into(buffer)
                self._clock.received += received
                return received
            except TimeoutError:
                if time.monotonic() > idle_deadline:
                    raise _Failure(f"no data for {self._clock.policy.read_timeout:g} s") from None


class _Response(http.client.HTTPResponse):
    def __init__(self, sock, *, clock: _Clock, **kwargs):
        super().__init__(sock, **kwargs)
        self.fp = io.BufferedReader(_PatientReader(sock, clock, self.fp), buffer_size=64 * 1024)


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection to the checked address, speaking to (and verifying) the host name."""

    def __init__(self, target: Target, address: str, clock: _Clock):
        super().__init__(target.host, target.port, timeout=TICK)
        # The Host header leaves out the scheme's default port (a pre-signed URL signs the Host).
        self.default_port = DEFAULT_PORTS[target.scheme]
        self._target = target
        self._address = address
        self._clock = clock
        self.response_class = functools.partial(_Response, clock=clock)  # type: ignore[assignment]

    def connect(self) -> None:
        sock = _connect(self._address, self._target.port, self._clock)
        if self._target.scheme == "https":
            sock = _handshake(sock, self._target.host, self._clock)
        sock.settimeout(TICK)
        self.sock = sock


class Download:
    """An open 200 response whose body is read in chunks; use as a context manager."""

    def __init__(self, target: Target, connection: _Connection, response: _Response, clock: _Clock):
        self.target = target
        self._connection = connection
        self._response = response
        self._clock = clock
        self.declared = _declared_length(response)
        self.total = self.declared or 0  # 0: unknown (chunked or no Content-Length)
        self.done = 0

    def chunks(self) -> Iterator[bytes]:
        """The body in chunks of at most CHUNK_SIZE; raises FetchFailed or ImportCancelled."""
        limit = self._clock.policy.max_bytes
        try:
            while True:
                self._clock.check()
                chunk = self._response.read(CHUNK_SIZE)
                if not chunk:
                    break
                self.done += len(chunk)
                if self.done > limit:
                    raise _Failure(f"the body is larger than the {limit}-byte limit")
                yield chunk
            if self.declared is not None and self.done < self.declared:
                raise _Failure(f"the body ended after {self.done} of {self.declared} declared bytes")
        except (_Failure, OSError, http.client.HTTPException, ValueError) as error:
            raise _failed(self.target, error) from None

    def close(self) -> None:
        self._response.close()
        self._connection.close()

    def __enter__(self) -> Download:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _declared_length(response: http.client.HTTPResponse) -> int | None:
    if response.chunked:
        return None
    values = set(response.headers.get_all("Content-Length") or [])
    if not values:
        return None
    if len(values) > 1 or not all(v.strip().isdigit() and v.strip().isascii() for v in values):
        raise _Failure("the response has an invalid Content-Length")
    return int(values.pop().strip())


def _failed(target: Target, error: BaseException) -> FetchFailed:
    detail = str(error) if isinstance(error, _Failure) else f"{type(error).__name__}: {error}"
    # A server may echo the request back (a bad status line, a reason phrase): never log the query.
    query = target.path_and_query.partition("?")[2]
    if query:
        detail = detail.replace(query, "<redacted>")
    detail = detail[:500]
    log.warning("import download from %s failed: %s", target.display_url, detail)
    return FetchFailed(detail)


def open_download(
    target: Target, *, policy: ImportPolicy, cancel: threading.Event, resolver: Resolver | None = None
) -> Download:
    """Connects to target (already checked by check_url), following at most policy.max_redirects
    redirects, each checked again by check_url and resolve. Returns the open 200 response after its
    headers passed the limits; raises FetchFailed or ImportCancelled.
    """
    clock = _Clock(policy, cancel)
    hop = target
    for redirects in range(policy.max_redirects + 1):
        clock.check()
        address = resolve(hop, policy, resolver)
        connection = _Connection(hop, address, clock)
        try:
            response = _request(connection, hop)
            if response.status in REDIRECT_STATUSES:
                location = _location(response)
                connection.close()
                if redirects == policy.max_redirects:
                    raise _Failure(f"more than {policy.max_redirects} redirects")
                previous, hop = hop, _redirect_target(hop, location, policy)
                log.info("import from %s redirected to %s", previous.display_url, hop.display_url)
                continue
            if response.status != 200:
                raise _Failure(f"HTTP status {response.status} {response.reason[:80]!r}")
            download = Download(hop, connection, response, clock)
            _check_headers(response, download, policy)
            return download
        except (_Failure, OSError, http.client.HTTPException, ValueError) as error:
            connection.close()
            raise _failed(hop, error) from None
        except BaseException:  # ImportCancelled, or a bug: never leave the socket open
            connection.close()
            raise
    raise AssertionError("unreachable")


def _request(connection: _Connection, target: Target) -> _Response:
    connection.putrequest("GET", target.path_and_query, skip_accept_encoding=True)
    connection.putheader("Accept-Encoding", "identity")
    connection.putheader("User-Agent", USER_AGENT)
    connection.putheader("Connection", "close")
    connection.endheaders()
    response = connection.getresponse()
    assert isinstance(response, _Response)  # response_class above
    return response


def _location(response: http.client.HTTPResponse) -> str:
    values = response.headers.get_all("Location") or []
    if len(values) != 1 or not values[0].strip():
        raise _Failure("a redirect without exactly one Location")
    return values[0].strip()


def _redirect_target(current: Target, location: str, policy: ImportPolicy) -> Target:
    url = urljoin(current.url, location)
    try:
        return check_url(url, policy)
    except UrlRejected as rejected:
        raise _Failure(f"a redirect to {redact_url(url)} was refused: {rejected.message}") from None


def _check_headers(response: http.client.HTTPResponse, download: Download, policy: ImportPolicy) -> None:
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise _Failure(f"the response has Content-Encoding {encoding[:40]!r}")
    transfer = (response.getheader("Transfer-Encoding") or "chunked").strip().lower()
    if transfer != "chunked":  # http.client decodes only chunked; anything else would be stored as is
        raise _Failure(f"the response has Transfer-Encoding {transfer[:40]!r}")
    if download.declared is not None and download.declared > policy.max_bytes:
        raise _Failure(f"the declared size {download.declared} is above the {policy.max_bytes}-byte limit")
