"""The demo's local object store: a loopback HTTP server with a few small real disk images, made at
start in Python (no qemu-img needed), one of them served slowly so an import can be watched and
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


def _disk_bytes(size: int, seed: int) -> bytes:
    """Recognisable, non-zero content: an MBR signature and a repeated line."""
    line = f"ImageService demo disk {seed}\n".encode()
    content = bytearray((line * (size // len(line) + 1))[:size])
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
        if self.path.lstrip("/").split("?")[0] != SLOW_NAME:
            return super().copyfile(source, outputfile)
        step = SLOW_BYTES_PER_SECOND // 8
        while chunk := source.read(step):
            outputfile.write(chunk)
            time.sleep(1 / 8)  # the throttle that makes this one slow to import
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
        shown = {SLOW_NAME: "slow: watch the progress, cancel it", MISSING_NAME: "missing: a failed import"}
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
