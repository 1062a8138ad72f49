"""Domain errors raised by services; images.grpc_errors maps them to gRPC status in one place."""

from __future__ import annotations

from typing import NamedTuple


class FieldViolation(NamedTuple):
    field: str  # request field path, e.g. "labels" or "name"
    description: str


class ServiceError(Exception):
    """Base of every error a service function may raise on purpose."""

    code_name = "INTERNAL"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(ServiceError):
    code_name = "INVALID_ARGUMENT"

    def __init__(self, violations: list[FieldViolation]):
        self.violations = list(violations)
        text = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(f"Request validation error: {text}")

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class NotFound(ServiceError):
    code_name = "NOT_FOUND"


class AlreadyExists(ServiceError):
    code_name = "ALREADY_EXISTS"


class FailedPrecondition(ServiceError):
    code_name = "FAILED_PRECONDITION"


class Unauthenticated(ServiceError):
    code_name = "UNAUTHENTICATED"


class PermissionDenied(ServiceError):
    code_name = "PERMISSION_DENIED"


class ResourceExhausted(ServiceError):
    code_name = "RESOURCE_EXHAUSTED"


def raise_if(violations: list[FieldViolation]) -> None:
    """Raises InvalidArgument carrying every violation, if there are any."""
    if violations:
        raise InvalidArgument(violations)
