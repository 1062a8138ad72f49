"""The server speaks TLS when given a certificate and key."""

import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2_grpc


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_server_with_cert_and_key_serves_tls_only(transactional_db, data_dir, certificate):
    from images.domain.auth import create_token
    from images.grpc.server import build_server

    cert, key = certificate
    server = build_server(host="127.0.0.1", port=0, workers=1, tls_cert=str(cert), tls_key=str(key))
    server.start()
    try:
        token = create_token(name="tls-viewer", role="viewer")
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        options = (("grpc.ssl_target_name_override", "localhost"),)
        with grpc.secure_channel(server.address, credentials, options=options) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            reply = image_service_pb2_grpc.ImageServiceStub(channel).List(
                isv.ListImagesRequest(folder_id="tls"),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=5,
            )
            assert list(reply.images) == []
        with grpc.insecure_channel(server.address) as plain:
            with pytest.raises(grpc.RpcError) as error:
                health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=2)
            assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=1)
