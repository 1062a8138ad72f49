"""HTTPS imports: certificates are verified against the host, with SNI, on the checked address."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from images.importer import FetchFailed, ImportCancelled, ImportPolicy, run_import
from images.importer.errors import DOWNLOAD_FAILED
from images.importer.fetch import _Clock, _connect, _handshake
from tests.importer.conftest import ImageServer


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


class Authority:
    """A throwaway certificate authority and the leaf certificates it signs."""

    def __init__(self, directory):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("importer test CA"))
            .issuer_name(_name("importer test CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def server_context(self, *names: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        alternative = [
            x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names
        ]
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        stem = self.directory / "-".join(names)
        stem.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        stem.with_suffix(".key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(stem.with_suffix(".crt"), stem.with_suffix(".key"))
        context.server_names = []
        context.sni_callback = lambda sock, server_name, ctx: context.server_names.append(server_name)
        return context


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return Authority(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_server(disk_images, authority):
    servers = []

    def start(*names: str) -> ImageServer:
        server = ImageServer(disk_images.root, tls=authority.server_context(*names))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_https_import_of_an_allowlisted_address_verifies_its_certificate(
    https_server, authority, store, cancel
):
    server = https_server("127.0.0.1")
    result = run_import(
        server.url("/files/v3.qcow2?sig=1"),
        policy=server.policy(ca_file=str(authority.ca_file)),
        store=store,
        cancel=cancel,
    )
    assert result.disk_format == "qcow2"


def test_https_refuses_a_certificate_from_an_untrusted_authority(https_server, store, cancel):
    server = https_server("127.0.0.1")
    with pytest.raises(FetchFailed) as failed:
        run_import(server.url("/files/v3.qcow2"), policy=server.policy(), store=store, cancel=cancel)
    assert failed.value.message == DOWNLOAD_FAILED
    assert "CERTIFICATE_VERIFY_FAILED" in failed.value.detail
    assert server.served.requests == []


def test_https_refuses_a_certificate_for_another_host(https_server, authority, store, cancel):
    server = https_server("other.test")
    with pytest.raises(FetchFailed) as failed:
        run_import(
            server.url("/files/v3.qcow2"),
            policy=server.policy(ca_file=str(authority.ca_file)),
            store=store,
            cancel=cancel,
        )
    assert "CERTIFICATE_VERIFY_FAILED" in failed.value.detail
    assert server.served.requests == []


def test_the_handshake_sends_the_host_name_and_checks_the_certificate_against_it(
    https_server, authority, cancel
):
    # A host name cannot reach 127.0.0.1 through run_import (DNS answers must be public), so this
    # drives the connection step itself: connect to the checked address, verify the name.
    server = https_server("images.test")
    policy = ImportPolicy(ca_file=str(authority.ca_file), connect_timeout=5)
    clock = _Clock(policy, cancel)
    tls = _handshake(_connect("127.0.0.1", server.port, clock), "images.test", clock)
    try:
        assert tls.getpeercert()["subjectAltName"] == (("DNS", "images.test"),)
    finally:
        tls.close()
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(_connect("127.0.0.1", server.port, clock), "evil.test", clock).close()


def test_the_server_receives_the_host_name_as_sni(disk_images, authority, cancel):
    context = authority.server_context("images.test")
    server = ImageServer(disk_images.root, tls=context)
    try:
        clock = _Clock(ImportPolicy(ca_file=str(authority.ca_file)), cancel)
        _handshake(_connect("127.0.0.1", server.port, clock), "images.test", clock).close()
    finally:
        server.close()
    assert context.server_names == ["images.test"]


class SilentListener:
    """A TCP port that accepts connections and never says a word."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.port = self.socket.getsockname()[1]
        self.accepted = threading.Event()
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.accepted.set()

    def close(self):
        self.socket.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent_listener():
    listener = SilentListener()
    yield listener
    listener.close()


def test_a_tls_handshake_that_never_completes_times_out(silent_listener, store, cancel):
    port = silent_listener.port
    policy = ImportPolicy(allowed_hosts=(f"127.0.0.1:{port}",), connect_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        run_import(f"https://127.0.0.1:{port}/x", policy=policy, store=store, cancel=cancel)
    assert "TLS handshake timed out" in failed.value.detail
    assert time.monotonic() - started < 3


def test_cancel_during_a_stuck_tls_handshake_stops_within_a_second(silent_listener, store, cancel):
    port = silent_listener.port
    policy = ImportPolicy(allowed_hosts=(f"127.0.0.1:{port}",), connect_timeout=30)
    outcome = {}

    def run():
        try:
            run_import(f"https://127.0.0.1:{port}/x", policy=policy, store=store, cancel=cancel)
        except BaseException as error:  # noqa: BLE001 - the test inspects whatever ended the import
            outcome["error"] = error
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    assert silent_listener.accepted.wait(5)
    cancelled_at = time.monotonic()
    cancel.set()
    worker.join(5)
    assert isinstance(outcome["error"], ImportCancelled)
    assert outcome["ended"] - cancelled_at < 1.0
