"""One server interceptor for every API call: request id, auth, the call's log line, error mapping."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from dataclasses import dataclass

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from images.domain.auth import Caller, TokenAuthenticator, authorize
from images.errors import InvalidArgument, ServiceError, Unavailable

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
    worker would run. None means ready from the start."""

    def __init__(self, authenticator: TokenAuthenticator | None = None, ready: threading.Event | None = None):
        self.authenticator = authenticator or TokenAuthenticator()
        self.ready = ready

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_SERVICES) or handler.unary_unary is None:
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())
        inner = handler.unary_unary

        def behavior(request, context):
            started = time.perf_counter()
            request_id = (metadata.get("x-request-id") or metadata.get("x-client-request-id") or "")[:128]
            request_id = request_id or str(uuid.uuid4())
            context.send_initial_metadata((("x-request-id", request_id),))
            caller_id = "-"
            code = "OK"
            try:
                if self.ready is not None and not self.ready.is_set():
                    raise Unavailable(STARTING_MESSAGE)
                caller = self.authenticator.authenticate(metadata.get("authorization"))
                caller_id = caller.id
                authorize(caller, method)
                token = _current.set(CallContext(caller, request_id, metadata.get("idempotency-key") or None))
                try:
                    return inner(request, context)
                finally:
                    _current.reset(token)
            except ServiceError as error:
                code = code_pb2.Code.Name(error.code)
                context.abort_with_status(status_of(error))
            except Exception as error:
                if context.code() is not None:  # the handler aborted on purpose
                    code = str(context.code())
                    raise
                code = "INTERNAL"
                log.exception(
                    "unhandled error in %s request_id=%s: %s", method, request_id, type(error).__name__
                )
                context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                log.info(
                    "rpc method=%s code=%s ms=%.2f request_id=%s caller=%s",
                    method,
                    code,
                    (time.perf_counter() - started) * 1000,
                    request_id,
                    caller_id,
                )

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
