"""Our strict rules for the headers of the formats we accept (qcow2, VMDK, VHD), on top of oslo's.

Each `*_header(head, eof)` reads the first bytes of the file and returns what later checks need, or
None while more bytes are needed; once `eof` is true, missing bytes mean a truncated file. Each
`*_finish(...)` runs the checks that need the whole file and returns the virtual size.
Every refusal raises ImageRejected with a sentence a person understands.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple

from images.importer.errors import ImageRejected

MAX_VIRTUAL_SIZE = 4 * 1024**4  # 4 TiB itself is accepted
HEAD_LIMIT = 2 * 1024 * 1024  # the largest qcow2 cluster; every header we read lies within it
SECTOR = 512


def check_virtual_size(size: int) -> int:
    if size <= 0:
        raise ImageRejected("the image has a virtual size of 0 bytes")
    if size > MAX_VIRTUAL_SIZE:
        raise ImageRejected(f"the image's virtual size of {size} bytes is above the limit of 4 TiB")
    return size


def _more(eof: bool, name: str) -> None:
    """Refuse a truncated image at end of file; before it, the caller answers None (read more)."""
    if eof:
        raise ImageRejected(f"the {name} image is truncated")


# --- qcow2 (docs/interop/qcow2.txt in QEMU) -------------------------------------------------------

QCOW2_MAGIC = b"QFI\xfb"
_QCOW2_DIRTY, _QCOW2_CORRUPT, _QCOW2_DATA_FILE, _QCOW2_COMPRESSION, _QCOW2_EXTENDED_L2 = 1, 2, 4, 8, 16
# Extended L2 entries are refused on purpose: oslo refuses them too, and our size checks assume
# 8-byte L2 entries.
_QCOW2_KNOWN_INCOMPATIBLE = _QCOW2_DIRTY | _QCOW2_CORRUPT | _QCOW2_DATA_FILE | _QCOW2_COMPRESSION
_EXT_END, _EXT_BACKING_FORMAT, _EXT_ENCRYPTION, _EXT_DATA_FILE = 0, 0xE2792ACA, 0x0537BE77, 0x44415441


class Qcow2Info(NamedTuple):
    virtual_size: int
    cluster_size: int
    l1_size: int
    l1_offset: int
    refcount_offset: int
    refcount_clusters: int
    snapshots: int
    snapshots_offset: int


def qcow2_header(head: bytes, eof: bool) -> Qcow2Info | None:
    if len(head) < 72:
        _more(eof, "qcow2")
        return None
    (_, version, backing_offset, backing_size, cluster_bits, size, crypt) = struct.unpack_from(
        ">4sIQIIQI", head
    )
    l1_size, l1_offset, refcount_offset, refcount_clusters, snapshots, snapshots_offset = struct.unpack_from(
        ">IQQIIQ", head, 36
    )
    if version == 1:
        raise ImageRejected("qcow version 1 images are not accepted; convert the image to qcow2")
    if version not in (2, 3):
        raise ImageRejected(f"qcow2 version {version} is not accepted; only versions 2 and 3 are")
    if backing_offset or backing_size:
        raise ImageRejected("qcow2 images with a backing file are not accepted")
    if crypt:
        raise ImageRejected("encrypted qcow2 images are not accepted")
    if not 9 <= cluster_bits <= 21:
        raise ImageRejected("the qcow2 header is invalid (cluster size)")
    cluster_size = 1 << cluster_bits
    check_virtual_size(size)
    extensions_start = 72
    if version == 3:
        if len(head) < 104:
            _more(eof, "qcow2")
            return None
        incompatible, _, _, refcount_order, header_length = struct.unpack_from(">QQQII", head, 72)
        if incompatible & _QCOW2_CORRUPT:
            raise ImageRejected("qcow2 images marked corrupt are not accepted; repair the image first")
        if incompatible & _QCOW2_DATA_FILE:
            raise ImageRejected("qcow2 images with an external data file are not accepted")
        if incompatible & _QCOW2_EXTENDED_L2:
            raise ImageRejected("qcow2 images with extended L2 entries are not accepted")
        if incompatible & ~_QCOW2_KNOWN_INCOMPATIBLE:
            raise ImageRejected("qcow2 images with unknown incompatible features are not accepted")
        if not 104 <= header_length <= cluster_size or header_length % 8 or refcount_order > 6:
            raise ImageRejected("the qcow2 header is invalid")
        extensions_start = header_length
    # Header extensions follow the header, inside the first cluster, up to an end marker.
    offset = extensions_start
    while offset + 8 <= cluster_size:
        if len(head) < offset + 8:
            _more(eof, "qcow2")
            return None
        kind, length = struct.unpack_from(">II", head, offset)
        if kind == _EXT_END:
            break
        if kind == _EXT_DATA_FILE:
            raise ImageRejected("qcow2 images with an external data file are not accepted")
        if kind == _EXT_ENCRYPTION:
            raise ImageRejected("encrypted qcow2 images are not accepted")
        if kind == _EXT_BACKING_FORMAT:
            raise ImageRejected("qcow2 images with a backing file are not accepted")
        offset += 8 + (length + 7) // 8 * 8
        if offset > cluster_size:
            raise ImageRejected("the qcow2 header is invalid (a header extension is too long)")
    return Qcow2Info(
        size,
        cluster_size,
        l1_size,
        l1_offset,
        refcount_offset,
        refcount_clusters,
        snapshots,
        snapshots_offset,
    )


_QCOW2_OFFSET_MASK = 0x00FFFFFFFFFFFE00
_QCOW2_COMPRESSED = 1 << 62


def _table(head: bytes, offset: int, count: int, fmt: str) -> tuple[int, ...]:
    """The table at offset if it lies in the head we kept, else () (it cannot be checked then)."""
    size = struct.calcsize(fmt) * count
    if offset + size > len(head):
        return ()
    return struct.unpack_from(f"{fmt[0]}{count}{fmt[1]}", head, offset)


def qcow2_finish(info: Qcow2Info, file_size: int, head: bytes) -> int:
    """Checks that the tables the header points at, and what those point at, lie inside the file."""
    truncated = ImageRejected("the qcow2 image is truncated (it points beyond the end of the file)")
    cluster = info.cluster_size
    needed_l1 = -(-info.virtual_size // (cluster // 8 * cluster))
    if info.l1_size < needed_l1:
        raise ImageRejected("the qcow2 header is invalid (the L1 table is too small)")
    tables = [(info.l1_offset, info.l1_size * 8), (info.refcount_offset, info.refcount_clusters * cluster)]
    if info.snapshots:
        tables.append((info.snapshots_offset, 1))
    for offset, length in tables:
        if offset % cluster or offset + length > file_size:
            raise truncated
    # Where the L1 and L2 tables are in the first 2 MiB (small or freshly converted images), follow
    # them: a file cut short in its data is refused too.
    compressed_bits = 62 - (cluster.bit_length() - 1 - 8)
    # Each distinct L2 table is read once, so the work is bounded by the head's size.
    l2_tables = {entry & _QCOW2_OFFSET_MASK for entry in _table(head, info.l1_offset, info.l1_size, ">Q")}
    for l2_offset in sorted(l2_tables - {0}):
        if l2_offset + cluster > file_size:
            raise truncated
        for l2_entry in _table(head, l2_offset, cluster // 8, ">Q"):
            if l2_entry & _QCOW2_COMPRESSED:
                data = l2_entry & ((1 << compressed_bits) - 1)
                end = data + 1
            else:
                data = l2_entry & _QCOW2_OFFSET_MASK
                end = data + cluster
            if data and end > file_size:
                raise truncated
    return info.virtual_size


# --- VMDK (VMware Virtual Disk Format 1.1) --------------------------------------------------------

VMDK_MAGIC = b"KDMV"
VMDK_DESCRIPTOR_MAX = (1 << 20) - 1  # QEMU reads an embedded descriptor up to this many bytes
_VMDK_GD_AT_END = 0xFFFFFFFFFFFFFFFF
_EXTENT = re.compile(r'(rw|rdonly|noaccess)\s+(\d+)\s+(\w+)\s+"([^"]*)"(\s+\d+)?')
_HEADER_FIELD = re.compile(r'([a-z][a-z0-9_.]*)\s*=\s*"?([^"]*)"?')


class VmdkInfo(NamedTuple):
    virtual_size: int
    grain_sectors: int
    grain_directory: int  # in sectors, or _VMDK_GD_AT_END for a footer
    create_type: str


def vmdk_header(head: bytes, eof: bool) -> VmdkInfo | None:
    if len(head) < SECTOR:
        _more(eof, "VMDK")
        return None
    (_, version, _, capacity, grain, desc_offset, desc_size, gtes_per_gt, _, gd_offset) = struct.unpack_from(
        "<4sIIQQQQIQQ", head
    )
    if version not in (1, 2, 3):
        raise ImageRejected(f"VMDK version {version} is not accepted")
    if desc_offset != 1 or desc_size == 0:
        raise ImageRejected("VMDK files without an embedded descriptor are not accepted")
    if gtes_per_gt != 512 or grain == 0 or grain & (grain - 1) or grain > 65536:
        raise ImageRejected("the VMDK header is invalid")
    check_virtual_size(capacity * SECTOR)
    # Like QEMU: the descriptor is text from sector 1 up to the first NUL (at most 1 MiB).
    end = head.find(b"\0", SECTOR, SECTOR + VMDK_DESCRIPTOR_MAX)
    if end < 0:
        if len(head) < SECTOR + VMDK_DESCRIPTOR_MAX and not eof:
            return None
        end = min(len(head), SECTOR + VMDK_DESCRIPTOR_MAX)
    create_type = check_vmdk_descriptor(head[SECTOR:end], capacity)
    return VmdkInfo(capacity * SECTOR, grain, gd_offset, create_type)


def check_vmdk_descriptor(raw: bytes, capacity: int) -> str:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ImageRejected("the VMDK descriptor is not ASCII text") from None
    fields: dict[str, str] = {}
    extents = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        lowered = line.lower()
        if not line or line.startswith("#"):
            continue
        if extent := _EXTENT.fullmatch(lowered):
            extents.append(extent)
        elif field := _HEADER_FIELD.fullmatch(lowered):
            fields[field.group(1)] = field.group(2).strip()
        else:
            raise ImageRejected("the VMDK descriptor has a line that is not understood")
    # QEMU finds these keys with strstr() anywhere in the text: each may appear once, as its own line.
    lowered_text = text.lower()
    if "parentfilenamehint" in lowered_text:
        raise ImageRejected("VMDK images with a parent disk (parentFileNameHint) are not accepted")
    for key, shown in (("parentcid", "parentCID"), ("createtype", "createType")):
        if lowered_text.count(key) != (key in fields):
            raise ImageRejected(f"the VMDK descriptor names {shown} more than once or inside another line")
    create_type = fields.get("createtype", "")
    if create_type not in ("monolithicsparse", "streamoptimized"):
        shown = re.sub(r"[^a-z0-9]", "", create_type)[:40] or "unknown"
        raise ImageRejected(
            f"VMDK images of type {shown} are not accepted; only monolithicSparse and streamOptimized are"
        )
    if fields.get("parentcid", "ffffffff") != "ffffffff":
        raise ImageRejected("VMDK images with a parent disk (parentCID) are not accepted")
    if len(extents) != 1:
        raise ImageRejected(f"VMDK images must have exactly one extent; this one has {len(extents)}")
    _, sectors, kind, name, offset = extents[0].groups()
    if not name or "/" in name or "\\" in name or ":" in name or name in (".", ".."):
        raise ImageRejected("VMDK extents that name a path are not accepted")
    if kind != "sparse" or offset is not None:
        raise ImageRejected(f"VMDK extents of type {kind.upper()} are not accepted; only SPARSE is")
    if int(sectors) != capacity:
        raise ImageRejected("the VMDK descriptor does not match its header (extent size)")
    return create_type


def vmdk_finish(info: VmdkInfo, file_size: int, head: bytes, tail: bytes) -> int:
    truncated = ImageRejected("the VMDK image is truncated (it points beyond the end of the file)")
    if info.create_type == "streamoptimized" and any(tail[-SECTOR:]):
        raise ImageRejected("the VMDK image is truncated (the end-of-stream marker is missing)")
    if info.grain_directory == _VMDK_GD_AT_END:
        return info.virtual_size  # the footer holds the real header; oslo checks it
    if info.grain_directory * SECTOR >= file_size:
        raise truncated
    # Follow the grain directory and tables that lie in the first 2 MiB, as for qcow2.
    grain_bytes = info.grain_sectors * SECTOR
    tables = -(-info.virtual_size // (512 * grain_bytes))
    for table in sorted(set(_table(head, info.grain_directory * SECTOR, tables, "<I")) - {0}):
        if table * SECTOR + 512 * 4 > file_size:
            raise truncated
        for grain in _table(head, table * SECTOR, 512, "<I"):
            if (
                grain > 1
                and grain * SECTOR + (1 if info.create_type == "streamoptimized" else grain_bytes) > file_size
            ):
                raise truncated
    return info.virtual_size


# --- VHD (Microsoft Virtual Hard Disk Image Format Specification) ---------------------------------

VHD_COOKIE = b"conectix"
_VHD_FIXED, _VHD_DYNAMIC, _VHD_DIFFERENCING = 2, 3, 4


class VhdFooter(NamedTuple):
    raw: bytes
    current_size: int
    disk_type: int
    data_offset: int


class VhdInfo(NamedTuple):
    footer: VhdFooter
    table_offset: int
    table_entries: int
    block_size: int


def _checksum(data: bytes, at: int) -> bool:
    (stored,) = struct.unpack_from(">I", data, at)
    total = sum(data) - sum(data[at : at + 4])
    return stored == (~total & 0xFFFFFFFF)


def vhd_footer(data: bytes) -> VhdFooter:
    if not data.startswith(VHD_COOKIE) or len(data) < SECTOR:
        raise ImageRejected("the VHD image is truncated")
    if not _checksum(data[:SECTOR], 64):
        raise ImageRejected("VHD images with a bad footer checksum are not accepted")
    (data_offset,) = struct.unpack_from(">Q", data, 16)
    (current_size,) = struct.unpack_from(">Q", data, 48)
    (disk_type,) = struct.unpack_from(">I", data, 60)
    if disk_type == _VHD_DIFFERENCING:
        raise ImageRejected("differencing VHD images are not accepted")
    if disk_type not in (_VHD_FIXED, _VHD_DYNAMIC):
        raise ImageRejected(f"VHD disk type {disk_type} is not accepted; only fixed and dynamic are")
    check_virtual_size(current_size)
    return VhdFooter(bytes(data[:SECTOR]), current_size, disk_type, data_offset)


def vhd_header(head: bytes, eof: bool) -> VhdInfo | None:
    """A VHD whose first sector is a footer copy: that is only valid for a dynamic disk."""
    if len(head) < SECTOR:
        _more(eof, "VHD")
        return None
    footer = vhd_footer(head)
    if footer.disk_type == _VHD_FIXED:
        raise ImageRejected("a fixed VHD must have its footer only at the end of the file")
    start = footer.data_offset
    if start < SECTOR or start + 1024 > HEAD_LIMIT:
        raise ImageRejected("the VHD header is invalid (dynamic header location)")
    if len(head) < start + 1024:
        _more(eof, "VHD")
        return None
    dynamic = head[start : start + 1024]
    if not dynamic.startswith(b"cxsparse") or not _checksum(dynamic, 36):
        raise ImageRejected("the VHD dynamic disk header is invalid")
    table_offset, _, table_entries, block_size = struct.unpack_from(">QIII", dynamic, 16)
    if (
        block_size < SECTOR
        or block_size & (block_size - 1)
        or table_entries * block_size < footer.current_size
    ):
        raise ImageRejected("the VHD dynamic disk header is invalid")
    return VhdInfo(footer, table_offset, table_entries, block_size)


def vhd_finish(info: VhdInfo | None, tail: bytes, file_size: int, head: bytes) -> int:
    """info is None for a fixed disk (its only footer is in tail, the last sector of the file)."""
    footer = vhd_footer(tail[-SECTOR:])
    if info is None:
        if footer.disk_type != _VHD_FIXED:
            raise ImageRejected("a dynamic VHD must start with a copy of its footer")
        if file_size - SECTOR != footer.current_size:
            raise ImageRejected("the fixed VHD's size does not match its footer (the file may be truncated)")
        return footer.current_size
    if footer.raw != info.footer.raw:
        raise ImageRejected("the VHD image is truncated (its two footers differ)")
    truncated = ImageRejected("the VHD image is truncated (it points beyond the end of the file)")
    if info.table_offset + 4 * info.table_entries > file_size - SECTOR:
        raise truncated
    bitmap = -(-info.block_size // (SECTOR * 8 * SECTOR)) * SECTOR
    for block in _table(head, info.table_offset, info.table_entries, ">I"):
        if block != 0xFFFFFFFF and block * SECTOR + bitmap + info.block_size > file_size - SECTOR:
            raise truncated
    return footer.current_size
