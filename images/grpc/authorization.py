"""Which role may call which gRPC method: decided at the edge, where method paths exist."""

from __future__ import annotations

from images.domain.auth import Caller
from images.errors import PermissionDenied
from images.store.models import Role

# Methods a viewer may call; an editor may call every method.
VIEWER_METHODS = frozenset(
    {
        "/yandex.cloud.compute.v1.ImageService/Get",
        "/yandex.cloud.compute.v1.ImageService/GetLatestByFamily",
        "/yandex.cloud.compute.v1.ImageService/List",
        "/yandex.cloud.compute.v1.ImageService/ListOperations",
        "/yandex.cloud.operation.OperationService/Get",
        "/imageservice.v1.ImageExtensionService/ListFamilies",
        "/imageservice.v1.ImageExtensionService/BatchGetOperations",
        "/imageservice.v1.ImageExtensionService/ListFolderOperations",
        "/imageservice.v1.ImageExtensionService/ListImages",  # List's role: it is List, marked
        "/yandex.cloud.compute.v1.DiskService/Get",
        "/yandex.cloud.compute.v1.DiskService/List",
        "/yandex.cloud.compute.v1.SnapshotService/Get",
        "/yandex.cloud.compute.v1.SnapshotService/List",
    }
)


def authorize(caller: Caller, method: str) -> None:
    """Raises PermissionDenied unless the caller's role may call the full method path."""
    if caller.role == Role.EDITOR:
        return
    if caller.role == Role.VIEWER and method in VIEWER_METHODS:
        return
    raise PermissionDenied(f"role {caller.role} may not call {method.rsplit('/', 1)[-1]}")
