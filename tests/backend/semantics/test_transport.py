"""What every call carries: health and reflection without auth, x-request-id, created_by."""

from __future__ import annotations

import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.semantics.helpers import (
    FOLDER,
    delete,
    get_operation,
    update,
)
from tests.backend.support import (
    image_id_of,
    raises_rpc,
    start_create,
)


def test_health_is_serving_without_auth(backend):
    channel = grpc.insecure_channel(backend.address)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in (
            "",
            "yandex.cloud.compute.v1.ImageService",
            "yandex.cloud.operation.OperationService",
        ):
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        channel.close()


def test_reflection_lists_the_services(backend):
    channel = grpc.insecure_channel(backend.address)
    try:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="yandex.cloud.compute.v1.ImageService"
            ),
        ]
        responses = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
    finally:
        channel.close()
    names = {service.name for service in responses[0].list_services_response.service}
    assert {
        "yandex.cloud.compute.v1.ImageService",
        "yandex.cloud.operation.OperationService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names
    assert responses[1].file_descriptor_response.file_descriptor_proto


def initial_metadata_of(call_or_error) -> dict:
    return dict(call_or_error.initial_metadata())


def test_x_request_id_is_the_clients_or_a_new_uuid_on_every_answer(backend):
    client = backend.viewer
    request = isv.ListImagesRequest(folder_id=FOLDER)
    _, call = client.images.List.with_call(request, metadata=client.metadata(x_request_id="req-1"))
    assert initial_metadata_of(call)["x-request-id"] == "req-1"
    _, call = client.images.List.with_call(request, metadata=client.metadata(x_client_request_id="req-2"))
    assert initial_metadata_of(call)["x-request-id"] == "req-2"
    _, call = client.images.List.with_call(request, metadata=client.metadata())
    generated = initial_metadata_of(call)["x-request-id"]
    assert str(uuid.UUID(generated)) == generated
    _, call = client.images.List.with_call(request, metadata=client.metadata())
    assert initial_metadata_of(call)["x-request-id"] != generated
    with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
        client.images.Get(
            isv.GetImageRequest(image_id="nope"), metadata=client.metadata(x_request_id="req-3")
        )
    assert initial_metadata_of(caught.error)["x-request-id"] == "req-3"
    anonymous = backend.client(None)
    with raises_rpc(grpc.StatusCode.UNAUTHENTICATED) as caught:
        anonymous.images.Get(isv.GetImageRequest(image_id="nope"), metadata=[("x-request-id", "req-4")])
    assert initial_metadata_of(caught.error)["x-request-id"] == "req-4"


def test_x_request_id_is_logged_with_the_call(backend, caplog):
    client = backend.viewer
    marker = f"trace-{uuid.uuid4().hex}"
    with caplog.at_level("INFO"):
        client.images.List(
            isv.ListImagesRequest(folder_id=FOLDER), metadata=client.metadata(x_request_id=marker)
        )
    lines = [record.getMessage() for record in caplog.records if marker in record.getMessage()]
    assert lines and "ImageService/List" in lines[0] and "OK" in lines[0]


def test_created_by_is_the_caller(backend):
    carol = backend.client(backend.create_token("carol", "editor"))
    dave = backend.client(backend.create_token("dave", "editor"))
    created = carol.wait(start_create(carol, backend, FOLDER, name="owned").id)
    image_id = image_id_of(created)
    operations = [
        created,
        dave.wait(update(dave, image_id, paths=["description"], description="x").id),
        carol.wait(delete(carol, image_id).id),
    ]
    assert [operation.created_by for operation in operations] == ["carol", "dave", "carol"]
    assert [get_operation(dave, operation.id).created_by for operation in operations] == [
        "carol",
        "dave",
        "carol",
    ]
