"""The catalog of disks and snapshots images can be created from."""

from collections.abc import Sequence

from images.store import ids
from images.store.models import OsType, Source, SourceKind


def source_register(
    *, kind: str, folder_id: str, size: int, product_ids: Sequence[str] = (), os: str = ""
) -> Source:
    if kind not in SourceKind.values:
        raise ValueError(f"kind must be one of {', '.join(SourceKind.values)}")
    if size <= 0:
        raise ValueError("size must be positive")
    os_type = {"": OsType.TYPE_UNSPECIFIED, "linux": OsType.LINUX, "windows": OsType.WINDOWS}[os]
    prefix = ids.DISK if kind == SourceKind.DISK else ids.SNAPSHOT
    return Source.objects.create(
        id=ids.new_id(prefix),
        kind=kind,
        folder_id=folder_id,
        size=size,
        product_ids=list(product_ids),
        os_type=os_type,
    )
