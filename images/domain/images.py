"""Business rules of ImageService: queries and the synchronous half of every mutation.

Reads return ImageRecord tuples, mutations the Operation they started; a worker finishes each
operation (images.domain.lifecycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from images import rules
from images.domain import operations
from images.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    raise_if,
)
from images.importer import ImportPolicy, UrlRejected, check_url, redact_url
from images.store import filters, ids, locks, pagination, queries
from images.store.models import (
    Image,
    ImageStatus,
    Operation,
    OperationKind,
    OperationState,
    OsType,
    Queue,
    Source,
    SourceKind,
)
from images.store.queries import ImageRecord

UPDATABLE_PATHS = rules.UPDATABLE_FIELDS


class ImportRunner(Protocol):
    """Who downloads an accepted import: the URI lives only in that process's memory."""

    @property
    def owner(self) -> str: ...  # holds the import operation's lease

    def submit_import(self, operation_id: str, uri: str) -> None: ...


SOURCE_URI = "uri"


@dataclass(frozen=True)
class ImageSource:
    kind: str  # "image" | "disk" | "snapshot" | "uri"
    value: str


@dataclass
class CreateImage:
    folder_id: str
    source: ImageSource | None
    name: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    family: str = ""
    min_disk_size: int = 0
    product_ids: list[str] = field(default_factory=list)
    os_type: int = OsType.TYPE_UNSPECIFIED
    pooled: bool = False


def _not_found(image_id: str) -> NotFound:
    return NotFound(f'Image "{image_id}" not found')


def image_get(*, image_id: str) -> ImageRecord:
    raise_if(rules.check_id(image_id, "image_id"))
    image = queries.image_by_id(image_id)
    if image is None:
        raise _not_found(image_id)
    return image


def _image_model(image_id: str) -> Image:
    raise_if(rules.check_id(image_id, "image_id"))
    image = Image.objects.filter(id=image_id).first()
    if image is None:
        raise _not_found(image_id)
    return image


def image_latest_by_family(*, folder_id: str, family: str) -> ImageRecord:
    raise_if(rules.check_id(folder_id, "folder_id") + rules.check_family(family, required=True))
    image = queries.latest_in_family(folder_id, family)
    if image is None:
        raise NotFound(f'Image family "{family}" has no ready image in folder "{folder_id}"')
    return image


def image_list(
    *, folder_id: str, page_size: int = 0, page_token: str = "", filter: str = "", order_by: str = ""
) -> tuple[list[ImageRecord], str]:
    """One page of a folder's images with the next page's token."""
    raise_if(
        rules.check_list_request(
            folder_id=folder_id, page_size=page_size, page_token=page_token, filter=filter, order_by=order_by
        )
    )
    conditions = filters.parse_filter(filter)
    return queries.image_page(
        folder_id,
        filters.image_filter(folder_id, conditions),
        filters.parse_order_by(order_by).order_fields(),
        page_size=rules.page_size_or_default(page_size),
        page_token=page_token,
        scope=pagination.token_scope("images", folder_id, filter, order_by),
    )


def _create_violations(request: CreateImage) -> list[FieldViolation]:
    violations = (
        rules.check_id(request.folder_id, "folder_id")
        + rules.check_name(request.name)
        + rules.check_description(request.description)
        + rules.check_labels(request.labels)
        + rules.check_family(request.family)
        + rules.check_min_disk_size(request.min_disk_size)
        + rules.check_product_ids(request.product_ids)
    )
    if request.os_type not in OsType.values:
        violations.append(FieldViolation("os.type", "unknown OS type"))
    source = request.source
    if source is None or (source.kind != SOURCE_URI and not source.value):
        violations.append(
            FieldViolation("source", "exactly one of image_id, disk_id, snapshot_id, uri is required")
        )
    elif source.kind == SOURCE_URI:
        if not source.value:
            violations.append(FieldViolation("uri", "is required"))
        else:
            try:
                check_url(source.value, ImportPolicy.from_settings())
            except UrlRejected as rejected:
                violations.append(FieldViolation("uri", rejected.message))
    else:
        violations += rules.check_id(source.value, f"{source.kind}_id")
    return violations


def _resolve_source(source: ImageSource) -> dict:
    """What the new image inherits from its source; FAILED_PRECONDITION when it is missing."""
    if source.kind == "image":
        image = queries.image_by_id(source.value)
        if image is None or image.status == ImageStatus.DELETING:
            raise FailedPrecondition(f'Source image "{source.value}" not found')
        if image.status != ImageStatus.READY:
            raise FailedPrecondition(f'Source image "{source.value}" is not ready')
        return {
            "size": image.size or image.min_disk_size,
            "min_disk_size": image.min_disk_size,
            "product_ids": list(image.product_ids),
            "os_type": image.os_type,
        }
    if source.kind in SourceKind.values:
        row = Source.objects.filter(id=source.value, kind=source.kind).first()
        if row is None:
            raise FailedPrecondition(f'Source {source.kind} "{source.value}" not found')
        return {
            "size": row.size,
            "min_disk_size": row.size,
            "product_ids": list(row.product_ids),
            "os_type": row.os_type,
        }
    return {}


def image_create(
    *,
    caller_id: str,
    request: CreateImage,
    idempotency_key: str | None = None,
    import_runner: ImportRunner | None = None,
) -> Operation:
    """Validates, then writes the CREATING image, its operation and the key in one transaction.

    An import from a URI is handed to `import_runner` once that commits; other sources are
    finished by any worker that claims the pending operation.
    """
    existing = operations.find_idempotent(caller_id, idempotency_key)
    if existing is not None:
        return existing
    raise_if(_create_violations(request))
    source = request.source
    assert source is not None  # a violation otherwise
    inherited = _resolve_source(source)
    min_disk_size = request.min_disk_size
    if inherited:
        if min_disk_size and min_disk_size < inherited["min_disk_size"]:
            raise InvalidArgument.field(
                "min_disk_size",
                f"must be at least the source's size ({inherited['min_disk_size']} bytes)",
            )
        min_disk_size = min_disk_size or inherited["min_disk_size"]
    image = Image(
        id=ids.new_id(ids.IMAGE),
        folder_id=request.folder_id,
        created_at=timezone.now(),
        name=request.name,
        description=request.description,
        labels=dict(request.labels),
        family=request.family,
        min_disk_size=min_disk_size,
        product_ids=list(request.product_ids) or inherited.get("product_ids", []),
        os_type=request.os_type or inherited.get("os_type", OsType.TYPE_UNSPECIFIED),
        pooled=request.pooled,
        status=ImageStatus.CREATING,
    )
    is_import = source.kind == SOURCE_URI
    payload = {"source": {"kind": source.kind, "id": "" if is_import else source.value}}
    if is_import:
        if import_runner is None:
            raise RuntimeError("an import needs a runner")
        # A pre-signed URL's query string is a secret: only the redacted form is stored.
        payload["source"]["uri"] = redact_url(source.value)
    try:
        with transaction.atomic():
            operation = operations.start(
                kind=OperationKind.CREATE,
                image_id=image.id,
                folder_id=image.folder_id,
                caller_id=caller_id,
                payload=payload,
                idempotency_key=idempotency_key,
                queue=Queue.IMPORT if is_import else Queue.DEFAULT,
                state=OperationState.RUNNING if is_import else OperationState.PENDING,
                lease_owner=import_runner.owner if import_runner and is_import else "",
            )
            image.active_operation_id = operation.id
            image.save(force_insert=True)
            if import_runner and is_import:
                uri, operation_id = source.value, operation.id
                transaction.on_commit(lambda: import_runner.submit_import(operation_id, uri))
    except IntegrityError as error:
        return _after_integrity_error(error, caller_id, idempotency_key, request.folder_id, request.name)
    return operation


def _after_integrity_error(
    error: IntegrityError, caller_id: str, key: str | None, folder_id: str, name: str
) -> Operation:
    """A duplicate insert: the concurrent twin's operation, a name collision, or a real error."""
    existing = operations.find_idempotent(caller_id, key)
    if existing is not None:
        return existing
    if name and Image.objects.filter(folder_id=folder_id, name=name).exists():
        raise AlreadyExists(f'Image with name "{name}" already exists in folder "{folder_id}"')
    raise error


def image_update(
    *,
    caller_id: str,
    image_id: str,
    update_mask: list[str] | None,
    values: dict,
    idempotency_key: str | None = None,
) -> Operation:
    """Applies the masked fields now (so names are reserved at once); the worker completes it.

    `values` holds every updatable field (name, description, min_disk_size, labels) as the request
    gave it; without a mask all of them are written.
    """
    existing = operations.find_idempotent(caller_id, idempotency_key)
    if existing is not None:
        return existing
    violations = rules.check_id(image_id, "image_id")
    paths = list(UPDATABLE_PATHS) if not update_mask else list(dict.fromkeys(update_mask))
    unknown = [path for path in paths if path not in UPDATABLE_PATHS]
    if unknown:
        violations.append(
            FieldViolation(
                "update_mask", f"unknown path {unknown[0]!r}; allowed: {', '.join(UPDATABLE_PATHS)}"
            )
        )
    checks = {
        "name": lambda: rules.check_name(values["name"]),
        "description": lambda: rules.check_description(values["description"]),
        "min_disk_size": lambda: rules.check_min_disk_size(values["min_disk_size"]),
        "labels": lambda: rules.check_labels(values["labels"]),
    }
    for path in paths:
        if path in checks:
            violations += checks[path]()
    raise_if(violations)
    folder_id = ""
    try:
        with transaction.atomic():
            image = _lock_idle_image(image_id)
            folder_id = image.folder_id
            previous = {path: getattr(image, path) for path in UPDATABLE_PATHS}
            for path in paths:
                value = values[path]
                if path == "min_disk_size":
                    if not value:
                        continue  # 0 means "not given"
                    if image.size and value < image.size:
                        raise InvalidArgument.field(
                            "min_disk_size", f"must be at least the image's size ({image.size} bytes)"
                        )
                setattr(image, path, dict(value) if path == "labels" else value)
            operation = operations.start(
                kind=OperationKind.UPDATE,
                image_id=image_id,
                folder_id=image.folder_id,
                caller_id=caller_id,
                payload={"previous": previous},
                idempotency_key=idempotency_key,
            )
            image.active_operation_id = operation.id
            image.save()
    except IntegrityError as error:
        return _after_integrity_error(error, caller_id, idempotency_key, folder_id, values["name"])
    except (NotFound, FailedPrecondition) as error:
        return operations.retry_idempotent(caller_id, idempotency_key, error)
    return operation


def _lock_idle_image(image_id: str) -> Image:
    """The image, row-locked, with no operation running on it; call inside a transaction."""
    image = locks.for_update(Image.objects.filter(id=image_id)).first()
    if image is None:
        raise _not_found(image_id)
    if image.active_operation_id or image.status == ImageStatus.DELETING:
        raise operations.busy(image_id)
    return image


def image_delete(*, caller_id: str, image_id: str, idempotency_key: str | None = None) -> Operation:
    """Marks the image DELETING at once; the worker removes it and its unreferenced data."""
    existing = operations.find_idempotent(caller_id, idempotency_key)
    if existing is not None:
        return existing
    raise_if(rules.check_id(image_id, "image_id"))
    try:
        with transaction.atomic():
            image = _lock_idle_image(image_id)
            operation = operations.start(
                kind=OperationKind.DELETE,
                image_id=image_id,
                folder_id=image.folder_id,
                caller_id=caller_id,
                payload={"previous_status": image.status},
                idempotency_key=idempotency_key,
            )
            image.status = ImageStatus.DELETING
            image.active_operation_id = operation.id
            image.save(update_fields=["status", "active_operation_id"])
    except (IntegrityError, NotFound, FailedPrecondition) as error:
        return operations.retry_idempotent(caller_id, idempotency_key, error)
    return operation


def image_operations(
    *, image_id: str, page_size: int = 0, page_token: str = ""
) -> tuple[list[Operation], str]:
    raise_if(
        rules.check_id(image_id, "image_id")
        + rules.check_page_size(page_size)
        + rules.check_page_token(page_token)
    )
    _image_model(image_id)
    order_fields = [("created_at", True), ("id", True)]
    return pagination.keyset_page(
        Operation.objects.filter(image_id=image_id),
        order_fields,
        page_size=rules.page_size_or_default(page_size),
        page_token=page_token,
        scope=pagination.token_scope("operations", image_id),
    )
