"""The demo's local object store: a loopback HTTP server with a few small real disk images (qcow2,
VMDK, raw), made at start in Python (no qemu-img needed), one of them served slowly so an import can be watched and
cancelled, and a missing one so a failure can be shown."""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CLUSTER_BITS = 16
CLUSTER = 1 << CLUSTER_BITS
MiB = 1024 * 1024
SLOW_NAME = "slow-ubuntu.qcow2"
SLOW_BYTES_PER_SECOND = 256 * 1024
MISSING_NAME = "missing.qcow2"
VMDK_NAME = "vmware-centos.vmdk"


def qcow2(virtual_size: int, data: bytes) -> bytes:
    """A minimal valid qcow2 (version 2, 64 KiB clusters, no snapshots): `data` at the start of the
    disk, the rest unallocated. Layout by cluster: header, refcount table, refcount block, L1, then
    the L2 tables and the data clusters."""
    per_l2 = CLUSTER // 8
    l1_size = -(-virtual_size // (per_l2 * CLUSTER))
    data_clusters = -(-len(data) // CLUSTER)
    l2_tables = -(-data_clusters // per_l2) if data_clusters else 0
    l1_clusters = -(-l1_size * 8 // CLUSTER)
    first_l2 = 3 + l1_clusters
    first_data = first_l2 + l2_tables
    total = first_data + data_clusters
    if total > CLUSTER // 2:
        raise ValueError("one refcount block covers this demo's images only")
    copied = 1 << 63
    header = struct.pack(
        ">4sIQIIQIIQQIIQ",
        b"QFI\xfb",
        2,
        0,
        0,
        CLUSTER_BITS,
        virtual_size,
        0,
        l1_size,
        3 * CLUSTER,
        1 * CLUSTER,
        1,
        0,
        0,
    )
    out = bytearray(total * CLUSTER)
    out[: len(header)] = header
    struct.pack_into(">Q", out, CLUSTER, 2 * CLUSTER)  # refcount table → the one refcount block
    for cluster in range(total):
        struct.pack_into(">H", out, 2 * CLUSTER + 2 * cluster, 1)
    for table in range(l2_tables):
        struct.pack_into(">Q", out, 3 * CLUSTER + 8 * table, ((first_l2 + table) * CLUSTER) | copied)
    for index in range(data_clusters):
        entry = (first_l2 * CLUSTER) + 8 * index  # L2 tables are consecutive, so entries are too
        struct.pack_into(">Q", out, entry, ((first_data + index) * CLUSTER) | copied)
        chunk = data[index * CLUSTER : (index + 1) * CLUSTER]
        start = (first_data + index) * CLUSTER
        out[start : start + len(chunk)] = chunk
    return bytes(out)


SECTOR = 512
VMDK_GRAIN_SECTORS = 128  # 64 KiB grains, as qemu-img makes them
VMDK_GTES_PER_GT = 512
VMDK_DESCRIPTOR_SECTORS = 20


def vmdk(virtual_size: int, data: bytes, *, name: str) -> bytes:
    """A minimal valid monolithicSparse VMDK (VMware Virtual Disk Format 1.1, one SPARSE extent, its
    descriptor embedded): `data` at the start of the disk, the rest unallocated. Layout by sector:
    header, descriptor, grain directory, every grain table (allocated up front as qemu-img does), then
    from the first grain boundary the data grains. `name` is the extent's file name in the descriptor."""
    if virtual_size % SECTOR:
        raise ValueError("a VMDK's capacity is whole sectors")
    capacity = virtual_size // SECTOR
    grain = VMDK_GRAIN_SECTORS * SECTOR
    tables = -(-capacity // (VMDK_GTES_PER_GT * VMDK_GRAIN_SECTORS))
    directory = 1 + VMDK_DESCRIPTOR_SECTORS
    directory_sectors = -(-tables * 4 // SECTOR)
    first_table = directory + directory_sectors
    table_sectors = VMDK_GTES_PER_GT * 4 // SECTOR
    overhead = -(-(first_table + tables * table_sectors) // VMDK_GRAIN_SECTORS) * VMDK_GRAIN_SECTORS
    grains = -(-len(data) // grain)
    descriptor = (
        "# Disk DescriptorFile\n"
        "version=1\n"
        "CID=d3e0c0de\n"
        "parentCID=ffffffff\n"
        'createType="monolithicSparse"\n'
        "\n"
        "# Extent description\n"
        f'RW {capacity} SPARSE "{name}"\n'
        "\n"
        "# The Disk Data Base\n"
        "#DDB\n"
        "\n"
        'ddb.virtualHWVersion = "4"\n'
        'ddb.adapterType = "ide"\n'
    ).encode("ascii")
    if len(descriptor) >= VMDK_DESCRIPTOR_SECTORS * SECTOR:
        raise ValueError("the descriptor must fit its sectors")
    header = struct.pack(
        "<4sIIQQQQIQQQB4sH",
        b"KDMV",
        1,  # version
        1,  # flags: the newline-detection characters below are valid
        capacity,
        VMDK_GRAIN_SECTORS,
        1,  # descriptor offset (sectors)
        VMDK_DESCRIPTOR_SECTORS,
        VMDK_GTES_PER_GT,
        0,  # no redundant grain directory
        directory,
        overhead,
        0,  # cleanly closed
        b"\n \r\n",
        0,  # not compressed
    )
    out = bytearray(overhead * SECTOR + grains * grain)
    out[: len(header)] = header
    out[SECTOR : SECTOR + len(descriptor)] = descriptor
    for table in range(tables):
        struct.pack_into("<I", out, directory * SECTOR + 4 * table, first_table + table * table_sectors)
    for index in range(grains):
        sector = overhead + index * VMDK_GRAIN_SECTORS
        struct.pack_into("<I", out, first_table * SECTOR + 4 * index, sector)  # tables are consecutive
        chunk = data[index * grain : (index + 1) * grain]
        out[sector * SECTOR : sector * SECTOR + len(chunk)] = chunk
    return bytes(out)


def _disk_bytes(size: int, seed: int) -> bytes:
    """Recognisable, non-zero content: an MBR with one Linux partition over the rest of the data (the
    importer refuses a raw disk whose partition table is garbage), then a repeated line."""
    line = f"ImageService demo disk {seed}\n".encode()
    content = bytearray((line * (size // len(line) + 1))[:size])
    content[446:510] = bytes(64)
    lba_only = b"\xfe\xff\xff"  # CHS fields that say "use the LBA fields"
    content[446:462] = struct.pack("<B3sB3sII", 0, lba_only, 0x83, lba_only, 1, size // SECTOR - 1)
    content[510:512] = b"\x55\xaa"
    return bytes(content)


def write_images(root: Path) -> dict[str, Path]:
    """The demo's disk images, written under root."""
    root.mkdir(parents=True, exist_ok=True)
    images = {
        "tiny-linux.qcow2": qcow2(64 * MiB, _disk_bytes(256 * 1024, 1)),
        "small-debian.qcow2": qcow2(512 * MiB, _disk_bytes(1 * MiB, 2)),
        SLOW_NAME: qcow2(2 * 1024 * MiB, _disk_bytes(4 * MiB, 3)),
        "raw-disk.img": _disk_bytes(2 * MiB, 4),
        VMDK_NAME: vmdk(256 * MiB, _disk_bytes(1 * MiB, 5), name=VMDK_NAME),
    }
    paths = {}
    for name, content in images.items():
        path = root / name
        path.write_bytes(content)
        paths[name] = path
    return paths


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the demo's console is for the banner
        pass

    def copyfile(self, source, outputfile):
        try:
            if self.path.lstrip("/").split("?")[0] != SLOW_NAME:
                return super().copyfile(source, outputfile)
            step = SLOW_BYTES_PER_SECOND // 8
            while chunk := source.read(step):
                outputfile.write(chunk)
                time.sleep(1 / 8)  # the throttle that makes this one slow to import
        except (BrokenPipeError, ConnectionResetError):
            pass  # a cancelled import hung up: expected, and no traceback on the presenter's console
        return None

    def send_error(self, code, message=None, explain=None):
        super().send_error(code, message if code != HTTPStatus.NOT_FOUND else "no such demo image", explain)


@dataclass
class DemoStore:
    server: ThreadingHTTPServer
    names: list[str]

    @property
    def authority(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def uris(self) -> list[tuple[str, str]]:
        """(what it shows, URI) for the banner."""
        shown = {
            SLOW_NAME: "slow: watch the progress, cancel it",
            VMDK_NAME: "VMDK, monolithicSparse: imports in a moment",
            MISSING_NAME: "missing: a failed import",
        }
        return [
            (shown.get(name, "imports in a moment"), f"http://{self.authority}/{name}")
            for name in [*self.names, MISSING_NAME]
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(root: Path, *, host: str = "127.0.0.1", port: int = 0) -> DemoStore:
    """Writes the images and serves them from a thread until stop()."""
    paths = write_images(root)

    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(root), **kwargs)

    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="demo-store", daemon=True).start()
    return DemoStore(server, sorted(paths))
