"""The dashboard's one gRPC client: a channel per process, deadlines, the user's token, errors as exceptions."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import grpc
from django.conf import settings
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from opentelemetry import trace

from dashboard import metrics
from images import telemetry
from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import (
    disk_pb2,
    disk_service_pb2,
    disk_service_pb2_grpc,
    image_pb2,
    image_service_pb2,
    image_service_pb2_grpc,
    snapshot_pb2,
    snapshot_service_pb2,
    snapshot_service_pb2_grpc,
)
from images.api.gen.yandex.cloud.operation import (
    operation_pb2,
    operation_service_pb2,
    operation_service_pb2_grpc,
)
from images.errors import FieldViolation

log = logging.getLogger(__name__)

# The contract's gRPC → HTTP table, for error pages.
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class BackendError(Exception):
    """A failed call; `message` is safe to show (it never holds the token or the backend address)."""

    title = "The image service could not do that"

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN):
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)


class NotFound(BackendError):
    title = "Not found"


class InvalidArgument(BackendError):
    title = "The request was not valid"

    def __init__(self, message: str, code: grpc.StatusCode, violations: list[FieldViolation]):
        super().__init__(message, code)
        self.violations = violations


class FailedPrecondition(BackendError):
    title = "Not possible right now"


class Conflict(BackendError):
    title = "Conflict"


class Unauthenticated(BackendError):
    title = "The image service did not accept your credentials"


class PermissionDenied(BackendError):
    title = "Not allowed"


class ResourceExhausted(BackendError):
    title = "Too many requests"


class Unimplemented(BackendError):
    title = "Not supported by this server"


class Unavailable(BackendError):
    title = "The image service is unavailable"


_ERRORS = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ALREADY_EXISTS: Conflict,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
}


def _violations(error: grpc.RpcError) -> list[FieldViolation]:
    try:
        status = rpc_status.from_call(error)
    except ValueError:  # details that disagree with the status: ignore them, keep the message
        return []
    found: list[FieldViolation] = []
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found += [FieldViolation(v.field, v.description) for v in bad_request.field_violations]
    return found


def translate(error: grpc.RpcError) -> BackendError:
    """The exception a view handles for a failed call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = (error.details() if hasattr(error, "details") else "") or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument(details or "The request was not valid.", code, _violations(error))
    if code == grpc.StatusCode.UNAVAILABLE:
        # gRPC's own text names addresses and socket errors: not for a web page.
        return Unavailable("The image service is not reachable right now. Try again in a moment.", code)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unavailable("The image service took too long to answer. Try again in a moment.", code)
    if code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS):
        return BackendError("The image service failed on this request.", code)
    return _ERRORS.get(code, BackendError)(details or code.name, code)


class _Telemetry(grpc.UnaryUnaryClientInterceptor):
    """Times every call per RPC and, when tracing is on, wraps it in a client span whose W3C
    `traceparent` goes along in the metadata, so the backend continues the web request's trace."""

    def intercept_unary_unary(self, continuation, client_call_details, request):
        rpc = client_call_details.method
        rpc = rpc.decode() if isinstance(rpc, bytes) else rpc
        tracer = telemetry.tracer(__name__)
        if tracer is None:
            return self._timed(rpc, continuation, client_call_details, request)
        with tracer.start_as_current_span(rpc.lstrip("/"), kind=trace.SpanKind.CLIENT) as span:
            metadata = list(client_call_details.metadata or ())
            telemetry.inject(metadata)
            call = self._timed(rpc, continuation, client_call_details._replace(metadata=metadata), request)
            span.set_attribute("rpc.grpc.status_code", call.code().name)
            return call

    @staticmethod
    def _timed(rpc: str, continuation, client_call_details, request):
        started = time.perf_counter()
        call = continuation(client_call_details, request)
        metrics.BACKEND_CALL_SECONDS.labels(rpc, call.code().name).observe(time.perf_counter() - started)
        return call


@dataclass(frozen=True)
class _Stubs:
    key: tuple[str, str]
    images: image_service_pb2_grpc.ImageServiceStub
    operations: operation_service_pb2_grpc.OperationServiceStub
    extension: extension_pb2_grpc.ImageExtensionServiceStub
    disks: disk_service_pb2_grpc.DiskServiceStub
    snapshots: snapshot_service_pb2_grpc.SnapshotServiceStub
    health: health_pb2_grpc.HealthStub


class _Channel:
    """One channel per process (per backend address): gRPC channels multiplex and are thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._channel: grpc.Channel | None = None
        self._stubs: _Stubs | None = None

    def stubs(self) -> _Stubs:
        """The current channel's stubs, built with the channel rather than on every request."""
        key = (settings.IMAGESERVICE_BACKEND_ADDRESS, settings.IMAGESERVICE_BACKEND_TLS_CA)
        stubs = self._stubs
        if stubs is not None and stubs.key == key:
            return stubs
        with self._lock:
            return self._open(key)

    def _open(self, key: tuple[str, str]) -> _Stubs:
        if self._key != key:
            if self._channel is not None:
                self._channel.close()
            address, ca_path = key
            options = [("grpc.keepalive_time_ms", 30_000), ("grpc.enable_retries", 1)]
            if ca_path:
                with open(ca_path, "rb") as ca:
                    credentials = grpc.ssl_channel_credentials(root_certificates=ca.read())
                channel = grpc.secure_channel(address, credentials, options=options)
            else:
                channel = grpc.insecure_channel(address, options=options)
            channel = grpc.intercept_channel(channel, _Telemetry())
            self._channel, self._key = channel, key
            self._stubs = _Stubs(
                key,
                image_service_pb2_grpc.ImageServiceStub(channel),
                operation_service_pb2_grpc.OperationServiceStub(channel),
                extension_pb2_grpc.ImageExtensionServiceStub(channel),
                disk_service_pb2_grpc.DiskServiceStub(channel),
                snapshot_service_pb2_grpc.SnapshotServiceStub(channel),
                health_pb2_grpc.HealthStub(channel),
            )
        assert self._stubs is not None  # built above with the channel for this key
        return self._stubs


_channel = _Channel()

# A server without the extension answers UNIMPLEMENTED; remember that for a while instead of asking
# on every poll. Per method: a server of an earlier version has the extension without its newer
# methods, and should keep serving the ones it has.
_EXTENSION_RETRY_SECONDS = 60.0
_extension_missing_until: dict[str, float] = {}


def _extension_available(method: str) -> bool:
    return time.monotonic() >= _extension_missing_until.get(method, 0.0)


def _mark_extension_missing(method: str) -> None:
    _extension_missing_until[method] = time.monotonic() + _EXTENSION_RETRY_SECONDS


class Backend:
    """The API as one person sees it: every call carries their token and the web request's id."""

    def __init__(self, token: str, request_id: str | None = None):
        self._token = token
        self.request_id = request_id or uuid.uuid4().hex
        stubs = _channel.stubs()
        self._images = stubs.images
        self._operations = stubs.operations
        self._extension = stubs.extension
        self._disks = stubs.disks
        self._snapshots = stubs.snapshots
        self._health = stubs.health

    def __repr__(self) -> str:  # never the token
        return f"<Backend request_id={self.request_id}>"

    def serving(self) -> bool:
        """Whether the backend answers its health check with SERVING (no token needed, no retry)."""
        try:
            reply = self._health.Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def _call(self, method, request, *, idempotency_key: str | None = None):
        metadata = [("authorization", f"Bearer {self._token}"), ("x-request-id", self.request_id)]
        if idempotency_key:
            metadata.append(("idempotency-key", idempotency_key))
        try:
            return method(request, metadata=metadata, timeout=settings.IMAGESERVICE_BACKEND_TIMEOUT)
        except grpc.RpcError as error:
            translated = translate(error)
            log.info("backend call failed request_id=%s code=%s", self.request_id, translated.code.name)
            raise translated from None

    # --- images ----------------------------------------------------------------------------
    def get_image(self, image_id: str) -> image_pb2.Image:
        return self._call(self._images.Get, image_service_pb2.GetImageRequest(image_id=image_id))

    def latest_by_family(self, folder_id: str, family: str) -> image_pb2.Image | None:
        """The family's newest READY image, or None when it has none."""
        request = image_service_pb2.GetImageLatestByFamilyRequest(folder_id=folder_id, family=family)
        try:
            return self._call(self._images.GetLatestByFamily, request)
        except NotFound:
            return None

    def list_images(
        self,
        folder_id: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        filter: str = "",
        order_by: str = "",
    ) -> image_service_pb2.ListImagesResponse:
        request = image_service_pb2.ListImagesRequest(
            folder_id=folder_id, page_size=page_size, page_token=page_token, filter=filter, order_by=order_by
        )
        return self._call(self._images.List, request)

    def list_images_with_latest(
        self,
        folder_id: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        filter: str = "",
        order_by: str = "",
    ) -> MarkedImages:
        """A List page and which of its images are their family's latest, in one call (the
        extension's ListImages; its page tokens are List's). A server without it gets the public
        List, and `latest_ids` None: not known."""
        request = image_service_pb2.ListImagesRequest(
            folder_id=folder_id, page_size=page_size, page_token=page_token, filter=filter, order_by=order_by
        )
        if _extension_available("ListImages"):
            try:
                marked = self._call(self._extension.ListImages, request)
            except Unimplemented:
                _mark_extension_missing("ListImages")
            else:
                return MarkedImages(marked.images, marked.next_page_token, frozenset(marked.latest_image_ids))
        public = self._call(self._images.List, request)
        return MarkedImages(public.images, public.next_page_token, None)

    def create_image(
        self,
        *,
        folder_id: str,
        source_kind: str,
        source: str,
        name: str = "",
        description: str = "",
        family: str = "",
        labels: Mapping[str, str] | None = None,
        min_disk_size: int = 0,
        product_ids: Iterable[str] = (),
        os_type: int = 0,
        pooled: bool = False,
        idempotency_key: str | None = None,
    ) -> operation_pb2.Operation:
        """source_kind is one of image_id, disk_id, snapshot_id, uri (the request's oneof)."""
        request = image_service_pb2.CreateImageRequest(
            folder_id=folder_id,
            name=name,
            description=description,
            family=family,
            labels=dict(labels or {}),
            min_disk_size=min_disk_size,
            product_ids=list(product_ids),
            pooled=pooled,
            os=image_pb2.Os(type=image_pb2.Os.Type.Name(os_type)) if os_type else None,
        )
        setattr(request, source_kind, source)
        return self._call(self._images.Create, request, idempotency_key=idempotency_key)

    def update_image(
        self, image_id: str, changes: Mapping[str, object], *, idempotency_key: str | None = None
    ) -> operation_pb2.Operation:
        """Sends only the given fields, and exactly those paths in update_mask."""
        request = image_service_pb2.UpdateImageRequest(image_id=image_id)
        for path, value in changes.items():
            if path == "labels":
                assert isinstance(value, Mapping)
                request.labels.update(value)
            else:
                setattr(request, path, value)
        request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=sorted(changes)))
        return self._call(self._images.Update, request, idempotency_key=idempotency_key)

    def delete_image(self, image_id: str, *, idempotency_key: str | None = None) -> operation_pb2.Operation:
        request = image_service_pb2.DeleteImageRequest(image_id=image_id)
        return self._call(self._images.Delete, request, idempotency_key=idempotency_key)

    def list_image_operations(
        self, image_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> image_service_pb2.ListImageOperationsResponse:
        request = image_service_pb2.ListImageOperationsRequest(
            image_id=image_id, page_size=page_size, page_token=page_token
        )
        return self._call(self._images.ListOperations, request)

    # --- operations ------------------------------------------------------------------------
    def get_operation(self, operation_id: str) -> operation_pb2.Operation:
        request = operation_service_pb2.GetOperationRequest(operation_id=operation_id)
        return self._call(self._operations.Get, request)

    def cancel_operation(self, operation_id: str) -> operation_pb2.Operation:
        request = operation_service_pb2.CancelOperationRequest(operation_id=operation_id)
        return self._call(self._operations.Cancel, request)

    def batch_get_operations(
        self, operation_ids: list[str]
    ) -> list[tuple[operation_pb2.Operation, extension_pb2.OperationProgress | None]]:
        """Operations in request order with their progress; one call, or one Get each without the extension."""
        if not operation_ids:
            return []
        if _extension_available("BatchGetOperations"):
            request = extension_pb2.BatchGetOperationsRequest(operation_ids=operation_ids)
            try:
                response = self._call(self._extension.BatchGetOperations, request)
            except Unimplemented:
                _mark_extension_missing("BatchGetOperations")
            else:
                return [
                    (item.operation, item.progress if item.HasField("progress") else None)
                    for item in response.operations
                ]
        found: list[tuple[operation_pb2.Operation, extension_pb2.OperationProgress | None]] = []
        for operation_id in operation_ids:
            try:
                found.append((self.get_operation(operation_id), None))
            except NotFound:
                continue
        return found

    def list_families(
        self, folder_id: str, *, page_size: int = 0, page_token: str = "", families: Sequence[str] = ()
    ) -> extension_pb2.ListFamiliesResponse:
        """The extension's family index (only the named families, when given); raises
        Unimplemented on a server without it."""
        if not _extension_available("ListFamilies"):
            raise Unimplemented("This server does not list families.", grpc.StatusCode.UNIMPLEMENTED)
        request = extension_pb2.ListFamiliesRequest(
            folder_id=folder_id, page_size=page_size, page_token=page_token, families=families
        )
        try:
            return self._call(self._extension.ListFamilies, request)
        except Unimplemented:
            _mark_extension_missing("ListFamilies")
            raise

    def list_folder_operations(
        self,
        folder_id: str,
        *,
        status: str = "",
        created_by: str = "",
        image_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> FolderOperations:
        """A page of every operation in the folder (or on one of its images, gone or not), newest
        first; status is "", "running", "done" or "failed". Raises Unimplemented on a server without
        it (the rest of the extension may be there)."""
        request = extension_pb2.ListFolderOperationsRequest(
            folder_id=folder_id,
            status=FOLDER_OPERATION_STATUSES[status],
            created_by=created_by,
            image_id=image_id,
            page_size=page_size,
            page_token=page_token,
        )
        response = self._call(self._extension.ListFolderOperations, request)
        return FolderOperations(
            [
                (item.operation, item.progress if item.HasField("progress") else None)
                for item in response.operations
            ],
            response.next_page_token,
        )

    # --- disks and snapshots ---------------------------------------------------------------
    def get_disk(self, disk_id: str) -> disk_pb2.Disk:
        return self._call(self._disks.Get, disk_service_pb2.GetDiskRequest(disk_id=disk_id))

    def list_disks(
        self,
        folder_id: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        filter: str = "",
        order_by: str = "",
    ) -> disk_service_pb2.ListDisksResponse:
        request = disk_service_pb2.ListDisksRequest(
            folder_id=folder_id, page_size=page_size, page_token=page_token, filter=filter, order_by=order_by
        )
        return self._call(self._disks.List, request)

    def get_snapshot(self, snapshot_id: str) -> snapshot_pb2.Snapshot:
        return self._call(
            self._snapshots.Get, snapshot_service_pb2.GetSnapshotRequest(snapshot_id=snapshot_id)
        )

    def list_snapshots(
        self,
        folder_id: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        filter: str = "",
        order_by: str = "",
    ) -> snapshot_service_pb2.ListSnapshotsResponse:
        request = snapshot_service_pb2.ListSnapshotsRequest(
            folder_id=folder_id, page_size=page_size, page_token=page_token, filter=filter, order_by=order_by
        )
        return self._call(self._snapshots.List, request)


FOLDER_OPERATION_STATUSES = {
    "": extension_pb2.ListFolderOperationsRequest.STATUS_UNSPECIFIED,
    "running": extension_pb2.ListFolderOperationsRequest.RUNNING,
    "done": extension_pb2.ListFolderOperationsRequest.DONE,
    "failed": extension_pb2.ListFolderOperationsRequest.FAILED,
}


@dataclass(frozen=True)
class MarkedImages:
    images: Sequence[image_pb2.Image]
    next_page_token: str
    latest_ids: frozenset[str] | None  # the page's images that are their family's latest; None: unknown


@dataclass(frozen=True)
class FolderOperations:
    operations: list[tuple[operation_pb2.Operation, extension_pb2.OperationProgress | None]]
    next_page_token: str


def forget_extension_state() -> None:
    """Ask about the extension again on the next call (tests point the client at new servers)."""
    _extension_missing_until.clear()
