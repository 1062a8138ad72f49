"""The backend process: gRPC server with the API, health and reflection, plus the operations worker."""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from wsgiref.simple_server import WSGIServer

import grpc
from django.conf import settings
from django.db import connection
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import (
    disk_service_pb2,
    disk_service_pb2_grpc,
    image_service_pb2,
    image_service_pb2_grpc,
    snapshot_service_pb2,
    snapshot_service_pb2_grpc,
)
from images.api.gen.yandex.cloud.operation import operation_service_pb2, operation_service_pb2_grpc
from images.grpc import metrics as rpc_metrics
from images.grpc.interceptor import ApiInterceptor
from images.grpc.servicers import (
    DiskServicer,
    ExtensionServicer,
    ImageServicer,
    OperationServicer,
    SnapshotServicer,
)
from images.worker import Worker

log = logging.getLogger(__name__)

MAX_RECEIVE_BYTES = 4 * 1024 * 1024
MAX_SEND_BYTES = 16 * 1024 * 1024
SERVICE_NAMES = (
    image_service_pb2.DESCRIPTOR.services_by_name["ImageService"].full_name,
    operation_service_pb2.DESCRIPTOR.services_by_name["OperationService"].full_name,
    extension_pb2.DESCRIPTOR.services_by_name["ImageExtensionService"].full_name,
    disk_service_pb2.DESCRIPTOR.services_by_name["DiskService"].full_name,
    snapshot_service_pb2.DESCRIPTOR.services_by_name["SnapshotService"].full_name,
)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class BackendServer:
    """Owns the grpc.Server, the health status and the worker; start() recovers, then serves."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        workers: int = 2,
        rpc_threads: int = 16,
        tls_cert: str = "",
        tls_key: str = "",
        generic_handlers: tuple = (),
        metrics_port: int | None = None,
        metrics_host: str = "127.0.0.1",
    ):
        self.worker = Worker(threads=workers)
        self.health = health.HealthServicer()
        # Set once recovery is done and the worker runs: until then the API answers UNAVAILABLE.
        self.ready = threading.Event()
        self._rpc_threads = rpc_threads
        self._executor = futures.ThreadPoolExecutor(max_workers=rpc_threads, thread_name_prefix="rpc")
        self.server = grpc.server(
            self._executor,
            interceptors=[ApiInterceptor(ready=self.ready, metrics=metrics_port is not None)],
            options=[
                # A second server on a taken port must fail, not share it silently.
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
                ("grpc.max_send_message_length", MAX_SEND_BYTES),
            ],
        )
        image_service_pb2_grpc.add_ImageServiceServicer_to_server(ImageServicer(self.worker), self.server)
        operation_service_pb2_grpc.add_OperationServiceServicer_to_server(OperationServicer(), self.server)
        extension_pb2_grpc.add_ImageExtensionServiceServicer_to_server(ExtensionServicer(), self.server)
        disk_service_pb2_grpc.add_DiskServiceServicer_to_server(DiskServicer(), self.server)
        snapshot_service_pb2_grpc.add_SnapshotServiceServicer_to_server(SnapshotServicer(), self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if generic_handlers:
            self.server.add_generic_rpc_handlers(generic_handlers)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )
        address = _host_port(host, port)
        try:
            if tls_cert and tls_key:
                with open(tls_cert, "rb") as cert, open(tls_key, "rb") as key:
                    credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
                bound = self.server.add_secure_port(address, credentials)
            else:
                bound = self.server.add_insecure_port(address)
        except RuntimeError:  # grpcio raises here where older versions returned 0
            bound = 0
        if not bound:
            raise RuntimeError(f"could not listen on {address} (is the port taken?)")
        self.host = host
        self.port = bound
        self._metrics_address = None if metrics_port is None else (metrics_host, metrics_port)
        self.metrics_server: WSGIServer | None = None
        self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)

    @property
    def address(self) -> str:
        return _host_port(self.host, self.port)

    @property
    def metrics_port(self) -> int | None:
        """The /metrics HTTP port once started (None when metrics are off)."""
        return self.metrics_server.server_address[1] if self.metrics_server else None

    def _set_health(self, status) -> None:
        rpc_metrics.HEALTH_SERVING.set(1 if status == health_pb2.HealthCheckResponse.SERVING else 0)
        self.health.set("", status)
        for name in SERVICE_NAMES:
            self.health.set(name, status)

    def start(self) -> None:
        """Listens at once (health answers NOT_SERVING, the API UNAVAILABLE), recovers, starts the
        worker, then serves: no call is accepted before a worker can run what it starts."""
        if self._metrics_address is not None:
            self.metrics_server = rpc_metrics.serve(*self._metrics_address)
            log.info("metrics on http://%s:%s/metrics", self._metrics_address[0], self.metrics_port)
        self.server.start()
        self.worker.recover()  # logs "recovered N operations in X s"
        self.worker.start()
        self.ready.set()
        self._set_health(health_pb2.HealthCheckResponse.SERVING)
        log.info("serving on %s", self.address)

    def stop(self, grace: float = 5.0) -> None:
        """NOT_SERVING, finish in-flight calls, then stop the worker (imports left for recovery)."""
        self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        self.server.stop(grace).wait()
        self.worker.stop()
        _close_connections_of(self._executor, self._rpc_threads)
        self._executor.shutdown(wait=True)
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None

    def wait(self) -> None:
        self.server.wait_for_termination()


def _close_connections_of(executor: futures.ThreadPoolExecutor, threads: int) -> None:
    """Closes the Django connection of every executor thread (a barrier puts one task on each),
    so no session outlives the server (PostgreSQL cannot drop a database that has one)."""
    barrier = threading.Barrier(threads)

    def close() -> None:
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        connection.close()

    for task in [executor.submit(close) for _ in range(threads)]:
        task.result()


FLOOR_METHOD = "/imageservice.bench.v1.Floor/Empty"


def floor_handler() -> grpc.GenericRpcHandler:
    """An empty unary method (bytes in, no bytes out): the benchmarks' floor on the same stack."""
    empty: grpc.RpcMethodHandler = grpc.unary_unary_rpc_method_handler(lambda request, context: b"")
    return grpc.method_handlers_generic_handler("imageservice.bench.v1.Floor", {"Empty": empty})


def build_server(
    *, host: str | None = None, port: int | None = None, workers: int = 2, **kwargs
) -> BackendServer:
    return BackendServer(
        host=settings.IMAGESERVICE_GRPC_HOST if host is None else host,
        port=settings.IMAGESERVICE_GRPC_PORT if port is None else port,
        workers=workers,
        tls_cert=kwargs.pop("tls_cert", settings.IMAGESERVICE_TLS_CERT),
        tls_key=kwargs.pop("tls_key", settings.IMAGESERVICE_TLS_KEY),
        metrics_port=kwargs.pop("metrics_port", settings.IMAGESERVICE_METRICS_PORT),
        metrics_host=kwargs.pop("metrics_host", settings.IMAGESERVICE_METRICS_HOST),
        **kwargs,
    )
