"""One server interceptor for every API call: request id, auth, the call's log line, error mapping."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
import uuid
from dataclasses import dataclass

import grpc
from django.db import OperationalError, connection
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry import trace

from images import metrics, telemetry
from images.domain.auth import Caller, TokenAuthenticator
from images.errors import InvalidArgument, ServiceError, Unavailable
from images.grpc import metrics as rpc_metrics
from images.grpc.authorization import authorize

log = logging.getLogger("images.rpc")

# Services answered without auth and without the per-call log line.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
STARTING_MESSAGE = "server is starting, retry"


@dataclass(frozen=True)
class CallContext:
    caller: Caller
    request_id: str
    idempotency_key: str | None


_current: contextvars.ContextVar[CallContext] = contextvars.ContextVar("images_call")


def current() -> CallContext:
    return _current.get()


def status_of(error: ServiceError) -> grpc.Status:
    """The wire status for a domain error; INVALID_ARGUMENT carries a google.rpc.BadRequest."""
    status = status_pb2.Status(code=error.code, message=error.message)
    if isinstance(error, InvalidArgument):
        detail = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in error.violations
            ]
        )
        status.details.add().Pack(detail)
    return rpc_status.to_status(status)


class ApiInterceptor(grpc.ServerInterceptor):
    """`ready` is set once the server has recovered and its worker runs (just before health says
    SERVING); until then every API call is answered UNAVAILABLE, so nothing is accepted that no
    worker would run. None means ready from the start. `metrics`: count every call in
    images.grpc.metrics (off unless the server serves them)."""

    def __init__(
        self,
        authenticator: TokenAuthenticator | None = None,
        *,
        ready: threading.Event | None = None,
        metrics: bool = False,
    ):
        self.authenticator = authenticator or TokenAuthenticator()
        self.ready = ready
        self.metrics = metrics

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_SERVICES) or handler.unary_unary is None:
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())
        inner = handler.unary_unary
        record = self.metrics

        def behavior(request, context):
            started = time.perf_counter()
            request_id = (metadata.get("x-request-id") or metadata.get("x-client-request-id") or "")[:128]
            request_id = request_id or str(uuid.uuid4())
            context.send_initial_metadata((("x-request-id", request_id),))
            caller_id = "-"
            code = "OK"
            tracer = telemetry.tracer(__name__)
            span = None
            if tracer is not None:
                span = tracer.start_span(
                    method.lstrip("/"), context=telemetry.extract(metadata), kind=trace.SpanKind.SERVER
                )
            try:
                with _in_span(span), telemetry.log_context(request_id=request_id):
                    if self.ready is not None and not self.ready.is_set():
                        raise Unavailable(STARTING_MESSAGE)
                    caller = self.authenticator.authenticate(metadata.get("authorization"))
                    caller_id = caller.id
                    authorize(caller, method)
                    token = _current.set(
                        CallContext(caller, request_id, metadata.get("idempotency-key") or None)
                    )
                    try:
                        if tracer is None:
                            return inner(request, context)
                        with (
                            tracer.start_as_current_span("service"),
                            connection.execute_wrapper(_sql_spans(tracer)),
                        ):
                            return inner(request, context)
                    finally:
                        _current.reset(token)
            except ServiceError as error:
                code = code_pb2.Code.Name(error.code)
                context.abort_with_status(status_of(error))
            except Exception as error:
                if context.code() is not None:  # the handler aborted on purpose
                    code = context.code().name
                    raise
                code = "INTERNAL"
                if _sqlite_busy(error):
                    metrics.SQLITE_BUSY.inc()
                log.exception(
                    "unhandled error in %s request_id=%s: %s", method, request_id, type(error).__name__
                )
                context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                elapsed = time.perf_counter() - started
                if record:
                    rpc_metrics.RPC_REQUESTS.labels(method, code).inc()
                    rpc_metrics.RPC_SECONDS.labels(method, code).observe(elapsed)
                if span is not None:
                    span.set_attribute("rpc.grpc.status_code", code)
                    if code != "OK":
                        span.set_status(trace.StatusCode.ERROR, code)
                    span.end()
                log.info(
                    "rpc method=%s code=%s ms=%.2f request_id=%s caller=%s",
                    method,
                    code,
                    elapsed * 1000,
                    request_id,
                    caller_id,
                    extra={
                        "method": method,
                        "code": code,
                        "ms": round(elapsed * 1000, 2),
                        "request_id": request_id,
                        "caller": caller_id,
                    },
                )

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _in_span(span):
    """The span made current for the call (a no-op context without tracing)."""
    return trace.use_span(span, end_on_exit=False) if span is not None else contextlib.nullcontext()


def _sql_spans(tracer):
    """A Django execute wrapper: one client span per SQL statement (the statement, never its values)."""

    def wrapper(execute, sql, params, many, context):
        with tracer.start_as_current_span(
            "sql", kind=trace.SpanKind.CLIENT, attributes={"db.statement": sql[:2000]}
        ):
            return execute(sql, params, many, context)

    return wrapper


def _sqlite_busy(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and "locked" in str(error)
