"""The operations tray: the person's recent operations, kept in their session so it survives reloads."""

from __future__ import annotations

from dashboard.backend import Backend
from dashboard.presenters import OperationView

SESSION_KEY = "dashboard_operations"
MAX_ENTRIES = 12


def entries(request) -> list[OperationView]:
    """As last seen: reading the tray costs no backend call."""
    return [OperationView.from_session(data) for data in request.session.get(SESSION_KEY, [])]


def _save(request, operations: list[OperationView]) -> None:
    request.session[SESSION_KEY] = [op.to_session() for op in operations[:MAX_ENTRIES]]


def remember(request, operation, *, image_name: str = "") -> OperationView:
    """Puts a just-started operation (an API Operation message) on top of the tray."""
    view = OperationView.from_proto(operation, image_name=image_name)
    _save(request, [view, *(op for op in entries(request) if op.id != view.id)])
    return view


def refresh(request, backend: Backend) -> list[OperationView]:
    """Asks the backend about the running entries in one call; returns those that finished since."""
    operations = entries(request)
    running = [op.id for op in operations if op.running]
    if not running:
        return []
    fresh = {
        operation.id: OperationView.from_proto(operation, progress)
        for operation, progress in backend.batch_get_operations(running)
    }
    finished = []
    updated = []
    for op in operations:
        new = fresh.get(op.id)
        if new is None:
            if op.running:
                continue  # the server no longer knows it (another server, a reset): stop asking
            updated.append(op)
            continue
        new.image_name = op.image_name
        if new.image_id == "":
            new.image_id = op.image_id
        if new.done:
            finished.append(new)
        updated.append(new)
    _save(request, updated)
    return finished


def clear_finished(request) -> None:
    _save(request, [op for op in entries(request) if op.running])


def replace(request, operation) -> OperationView:
    """Stores the state an API call (e.g. Cancel) just returned for a tray entry."""
    known = {op.id: op for op in entries(request)}
    old = known.get(operation.id)
    view = OperationView.from_proto(operation, image_name=old.image_name if old else "")
    _save(
        request,
        [view if op.id == view.id else op for op in entries(request)] if old else [view, *entries(request)],
    )
    return view
