"""Errors the backend raises on purpose, each with its google.rpc code; pure Python, shared.

images.grpc.interceptor maps them to gRPC status in one place; the dashboard reads FieldViolation.
"""

from __future__ import annotations

from typing import NamedTuple

from google.rpc import code_pb2


class FieldViolation(NamedTuple):
    field: str  # request field path, e.g. "labels" or "name"
    description: str


class ServiceError(Exception):
    """Base of every error a service function may raise on purpose."""

    code = code_pb2.INTERNAL

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(ServiceError):
    code = code_pb2.INVALID_ARGUMENT

    def __init__(self, violations: list[FieldViolation]):
        self.violations = list(violations)
        text = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(f"Request validation error: {text}")

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class NotFound(ServiceError):
    code = code_pb2.NOT_FOUND


class AlreadyExists(ServiceError):
    code = code_pb2.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    code = code_pb2.FAILED_PRECONDITION


class Unavailable(ServiceError):
    code = code_pb2.UNAVAILABLE


class Unauthenticated(ServiceError):
    code = code_pb2.UNAUTHENTICATED


class PermissionDenied(ServiceError):
    code = code_pb2.PERMISSION_DENIED


def raise_if(violations: list[FieldViolation]) -> None:
    """Raises InvalidArgument carrying every violation, if there are any."""
    if violations:
        raise InvalidArgument(violations)
