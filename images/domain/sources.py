"""The catalog of disks and snapshots images can be created from: registering, Get and List."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from images import rules
from images.errors import AlreadyExists, NotFound, raise_if
from images.store import catalog, filters, ids, pagination
from images.store.models import OsType, Source, SourceKind

# Plain fields a disk or snapshot List filter may name (labels.<key> too); no family on sources.
FILTER_FIELDS = ("name", "id", "status")


def source_register(
    *,
    kind: str,
    folder_id: str,
    size: int,
    product_ids: Sequence[str] = (),
    os: str = "",
    name: str = "",
    description: str = "",
    labels: Mapping[str, str] | None = None,
) -> Source:
    """Adds a disk or snapshot; ValueError for a bad kind, size or OS, InvalidArgument for fields
    that break the rules images follow (name, description, labels), AlreadyExists for a name taken."""
    if kind not in SourceKind.values:
        raise ValueError(f"kind must be one of {', '.join(SourceKind.values)}")
    if size <= 0:
        raise ValueError("size must be positive")
    labels = dict(labels or {})
    raise_if(
        rules.check_id(folder_id, "folder_id")
        + rules.check_name(name)
        + rules.check_description(description)
        + rules.check_labels(labels)
    )
    if name and Source.objects.filter(kind=kind, folder_id=folder_id, name=name).exists():
        raise AlreadyExists(f'{kind.capitalize()} with name "{name}" already exists in folder "{folder_id}"')
    os_type = {"": OsType.TYPE_UNSPECIFIED, "linux": OsType.LINUX, "windows": OsType.WINDOWS}[os]
    prefix = ids.DISK if kind == SourceKind.DISK else ids.SNAPSHOT
    return Source.objects.create(
        id=ids.new_id(prefix),
        kind=kind,
        folder_id=folder_id,
        size=size,
        product_ids=list(product_ids),
        os_type=os_type,
        name=name,
        description=description,
        labels=labels,
    )


def source_get(*, kind: str, source_id: str) -> Source:
    """The disk or snapshot by id (NOT_FOUND for one of the other kind)."""
    raise_if(rules.check_id(source_id, f"{kind}_id"))
    source = catalog.source_by_id(kind, source_id)
    if source is None:
        raise NotFound(f'{kind.capitalize()} "{source_id}" not found')
    return source


def source_list(
    *,
    kind: str,
    folder_id: str,
    page_size: int = 0,
    page_token: str = "",
    filter: str = "",
    order_by: str = "",
) -> tuple[list[Source], str]:
    """One page of a folder's disks or snapshots with the next page's token; rules as image List's."""
    raise_if(
        rules.check_list_request(
            folder_id=folder_id, page_size=page_size, page_token=page_token, filter=filter, order_by=order_by
        )
    )
    conditions = filters.parse_filter(filter, fields=FILTER_FIELDS)
    return catalog.source_page(
        kind,
        folder_id,
        filters.filter_q(conditions),
        filters.parse_order_by(order_by).order_fields(),
        page_size=rules.page_size_or_default(page_size),
        page_token=page_token,
        scope=pagination.token_scope(f"{kind}s", folder_id, filter, order_by),
    )
