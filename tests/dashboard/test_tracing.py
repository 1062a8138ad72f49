"""Traces: one dashboard click is one trace through the dashboard, its gRPC call, the backend's
interceptor, service and SQL; the worker's run of an operation links to the request that made it."""

from __future__ import annotations

import pytest
from django.test import Client
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from images import telemetry
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.dashboard.fixtures import FOLDER

GET = "yandex.cloud.compute.v1.ImageService/Get"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use_tracer_provider(provider)
    yield exporter
    telemetry.use_tracer_provider(None)
    provider.shutdown()


def test_tracing_is_off_without_an_otlp_endpoint(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert telemetry.setup_tracing("test") is False
    assert telemetry.tracer("test") is None


def test_one_dashboard_click_is_one_trace_through_both_processes(editor, seed, spans):
    image_id = seed.image("traced")
    client = Client()
    client.force_login(editor)
    spans.clear()
    assert client.get(f"/images/{image_id}/").status_code == 200

    found = spans.get_finished_spans()
    assert len({span.context.trace_id for span in found}) == 1, [span.name for span in found]
    by_id = {span.context.span_id: span for span in found}
    [page] = [span for span in found if span.kind == SpanKind.SERVER and span.name.startswith("GET ")]
    assert page.parent is None and page.name == "GET images/<id:image_id>/"
    [client_call] = [span for span in found if span.kind == SpanKind.CLIENT and span.name == GET]
    [served] = [span for span in found if span.kind == SpanKind.SERVER and span.name == GET]
    # The backend continued the dashboard's trace from the traceparent in the gRPC metadata.
    assert served.parent.span_id == client_call.context.span_id
    assert served.attributes["rpc.grpc.status_code"] == "OK"

    def ancestors(span):
        while span.parent is not None:
            span = by_id[span.parent.span_id]
            yield span

    assert page in ancestors(client_call)
    [service] = [span for span in found if span.name == "service" and served in ancestors(span)]
    sql = [span for span in found if span.name == "sql" and service in ancestors(span)]
    assert sql and "SELECT" in sql[0].attributes["db.statement"]


def test_the_worker_run_of_an_operation_links_to_the_request_that_created_it(dashboard, spans):
    api = dashboard.editor
    disk = dashboard.register_source("disk", FOLDER, 1024**3)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    operation = api.call(
        api.images.Create,
        isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk),
        traceparent=f"00-{trace_id}-00f067aa0ba902b7-01",
    )
    dashboard.wait_operation(operation.id)
    found = spans.get_finished_spans()
    [created] = [span for span in found if span.name == "yandex.cloud.compute.v1.ImageService/Create"]
    assert format(created.context.trace_id, "032x") == trace_id
    [worked] = [span for span in found if span.name == "operation create"]
    [link] = worked.links
    # It links to the Create call's service span, inside the request's trace; it has a trace of its own.
    [service] = [span for span in found if span.context.span_id == link.context.span_id]
    assert service.name == "service" and service.parent.span_id == created.context.span_id
    assert worked.context.trace_id != created.context.trace_id
    assert worked.attributes["operation.id"] == operation.id
