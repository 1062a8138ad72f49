"""Decides from the content alone, while it streams, whether it is a disk image we accept.

Two layers look at every byte: oslo.utils' format inspectors, all formats enabled (to catch files
that are two formats at once), and our stricter header rules from images.importer.formats. A
refusal is raised as soon as the bytes seen so far allow it, so the caller can stop downloading.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from oslo_utils.imageutils import format_inspector

from images.importer import formats
from images.importer.errors import ImageRejected

log = logging.getLogger(__name__)

# oslo's first look gets the first MiB in one piece, so its verdicts do not depend on how the
# network happened to split the stream (its text-descriptor VMDK check only sees the first chunk).
OSLO_FIRST_FEED = 1024 * 1024
ACCEPTED_FORMATS = ("qcow2", "vmdk", "vhd", "raw")
RAW_MIN_BYTES = 1024 * 1024

_REFUSED = {
    "vhdx": "VHDX images are not accepted; convert the image to VHD, qcow2 or raw",
    "qed": "QED images are not accepted; convert the image to qcow2 or raw",
    "luks": "LUKS-encrypted images are not accepted",
    "vdi": "VDI images are not accepted; convert the image to qcow2, VMDK, VHD or raw",
    "iso": "ISO images are not accepted; upload a disk image",
    "vmdk-descriptor": (
        "VMDK descriptor files are not accepted (they refer to other files); "
        "upload a monolithicSparse or streamOptimized VMDK"
    ),
    "cowd": "VMDK version 3 (COWD) images are not accepted",
    "bochs": "Bochs images are not accepted",
    "parallels": "Parallels images are not accepted",
    "cloop": "cloop images are not accepted",
}
_MAGICS = (
    (formats.QCOW2_MAGIC, "qcow2"),
    (formats.VMDK_MAGIC, "vmdk"),
    (formats.VHD_COOKIE, "vhd"),
    (b"vhdxfile", "vhdx"),
    (b"QED\0", "qed"),
    (b"LUKS\xba\xbe", "luks"),
    (b"COWD", "cowd"),
    (b"Bochs Virtual HD Image", "bochs"),
    (b"WithoutFreeSpace", "parallels"),
    (b"WithouFreSpacExt", "parallels"),
    (b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop", "cloop"),
)
_HEADER_RULES = {
    "qcow2": formats.qcow2_header,
    "vmdk": formats.vmdk_header,
    "vhd": formats.vhd_header,
}


@dataclass(frozen=True)
class InspectionResult:
    disk_format: str  # one of ACCEPTED_FORMATS
    virtual_size: int


def _looks_like_vmdk_descriptor(head: bytes) -> bool:
    """QEMU probes a text file as a VMDK descriptor when its first statement is `version=N`."""
    for line in bytes(head[:4096]).split(b"\n"):
        line = line.strip()
        if line and not line.startswith(b"#"):
            return line.lower().startswith(b"version=")
    return False


def _matches(inspector: format_inspector.FileInspector) -> bool:
    try:
        return bool(inspector.format_match)
    except Exception:  # an inspector that cannot tell has not matched
        return False


def _needs_the_end(inspector: format_inspector.FileInspector) -> bool:
    return any(
        isinstance(inspector.region(name), format_inspector.EndCaptureRegion)
        for name in inspector.context_info
    )


class StreamInspector:
    """Feed it the stream chunk by chunk, then call finish() for the format and virtual size.

    Memory stays bounded: the first 2 MiB, the last sector, and oslo's small capture regions.
    """

    def __init__(self):
        self.size = 0
        self._head = bytearray()
        self._tail = b""
        self._pending: list[bytes] | None = []
        self._pending_size = 0
        self._oslo = {name: cls() for name, cls in format_inspector.ALL_FORMATS.items() if name != "raw"}
        self._feeding = set(self._oslo)
        self._broken: set[str] = set()
        self._own: frozenset[str] | None = None
        self._header_info = None
        self._header_done = False
        self._header_tried = 0

    # --- streaming ---------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        """Takes the next chunk; raises ImageRejected as soon as what was seen so far is refused."""
        if not chunk:
            return
        self.size += len(chunk)
        if len(self._head) < formats.HEAD_LIMIT:
            self._head += chunk[: formats.HEAD_LIMIT - len(self._head)]
        self._tail = (self._tail + chunk[-formats.SECTOR :])[-formats.SECTOR :]
        if self._pending is not None:
            self._pending.append(chunk)
            self._pending_size += len(chunk)
            if self._pending_size >= OSLO_FIRST_FEED:
                self._flush_pending()
        elif self._feeding:
            self._feed_oslo(chunk)
        self._check(eof=False)

    def _flush_pending(self) -> None:
        data, self._pending = b"".join(self._pending or ()), None
        if data:
            self._feed_oslo(data)

    def _feed_oslo(self, data: bytes) -> None:
        for name in list(self._feeding):
            inspector = self._oslo[name]
            try:
                inspector.eat_chunk(data)
            except Exception as error:  # like oslo's InspectWrapper: a parse error means "not this format"
                log.debug("format inspector %s excluded: %s", name, error)
                self._broken.add(name)
                self._feeding.discard(name)
                continue
            if inspector.complete and not _needs_the_end(inspector):
                self._feeding.discard(name)

    # --- decisions ---------------------------------------------------------------------------

    def _own_kinds(self) -> frozenset[str]:
        """Formats recognised by their magic; settled once the first 4 KiB are in."""
        if self._own is not None:
            return self._own
        head = bytes(self._head[:64])
        kinds = {name for magic, name in _MAGICS if head.startswith(magic)}
        if not kinds and _looks_like_vmdk_descriptor(self._head):
            kinds.add("vmdk-descriptor")
        if len(self._head) >= 4096:
            self._own = frozenset(kinds)
        return frozenset(kinds)

    def _oslo_kinds(self, *, complete_only: bool) -> set[str]:
        return {
            name
            for name, inspector in self._oslo.items()
            if name not in self._broken and (inspector.complete or not complete_only) and _matches(inspector)
        }

    def _check(self, eof: bool) -> None:
        own = self._own_kinds()
        found = set(own) | self._oslo_kinds(complete_only=not eof)
        if "vmdk" in found and "vmdk" not in own:
            found.add("vmdk-descriptor")  # a VMDK without the binary sparse header is a text descriptor
        for name in sorted(found):
            if name in _REFUSED:
                raise ImageRejected(_REFUSED[name])
        if len(found) > 1:
            raise _polyglot(found)
        kind = next(iter(own & _HEADER_RULES.keys()), None)
        # Past the first 4 KiB, header rules rerun only when the head has doubled (or at the end):
        # a header built to need many bytes then costs a few passes, not one per chunk.
        grown = len(self._head) < 4096 or len(self._head) >= 2 * self._header_tried
        if kind and not self._header_done and (eof or grown):
            self._header_tried = len(self._head)
            self._header_info = _HEADER_RULES[kind](bytes(self._head), eof)
            self._header_done = self._header_info is not None

    def finish(self) -> InspectionResult:
        """The verdict on the whole stream: the accepted format and virtual size, or ImageRejected."""
        if self.size == 0:
            raise ImageRejected("the image is empty")
        if self._pending is not None:
            self._flush_pending()
        for name, inspector in self._oslo.items():
            try:
                inspector.finish()
            except Exception:
                self._broken.add(name)
        self._check(eof=True)
        own = self._own_kinds()
        found = set(own) | self._oslo_kinds(complete_only=False)
        dynamic_vhd = "vhd" in own
        if self.size > formats.SECTOR and self._tail.startswith(formats.VHD_COOKIE):
            found.add("vhd")
            if not dynamic_vhd:
                found.discard("gpt")  # a fixed VHD is a raw disk, which may well be partitioned, and a footer
        if len(found) > 1:
            raise _polyglot(found)
        name = next(iter(found), "raw")
        if name in ("qcow2", "vmdk") or (name == "vhd" and dynamic_vhd):
            self._oslo_agrees(name)
        self._oslo_safety_check(name)
        head = bytes(self._head)
        if name == "qcow2":
            virtual_size = formats.qcow2_finish(self._header_info, self.size, head)
        elif name == "vmdk":
            virtual_size = formats.vmdk_finish(self._header_info, self.size, head, self._tail)
        elif name == "vhd":
            info = self._header_info if dynamic_vhd else None
            virtual_size = formats.vhd_finish(info, self._tail, self.size, head)
        else:
            name, virtual_size = "raw", _raw_disk_size(self.size)
        return InspectionResult(name, formats.check_virtual_size(virtual_size))

    def _oslo_agrees(self, name: str) -> None:
        if name in self._broken or not _matches(self._oslo[name]) or not self._oslo[name].complete:
            raise ImageRejected(f"the {name} image is truncated or its header is invalid")

    def _oslo_safety_check(self, name: str) -> None:
        inspector = self._oslo.get(name)
        if inspector is None or name in self._broken or not _matches(inspector):
            return  # raw, or a fixed VHD: oslo has nothing to say about them
        try:
            inspector.safety_check()
        except format_inspector.SafetyCheckFailed as failed:
            if name == "gpt":
                raise ImageRejected("raw images with an invalid partition table are not accepted") from None
            checks = ", ".join(sorted(failed.failures))
            raise ImageRejected(f"the {name} image failed a safety check ({checks})") from None
        except format_inspector.ImageFormatError:
            raise ImageRejected(f"the {name} image is truncated or its header is invalid") from None


def _raw_disk_size(size: int) -> int:
    """A raw image is the disk itself: whole sectors, and big enough to be a disk at all (a short
    text file would otherwise become a READY image)."""
    if size < RAW_MIN_BYTES:
        raise ImageRejected(f"a raw image must be at least 1 MiB; this one is {size} bytes")
    if size % formats.SECTOR:
        raise ImageRejected(
            f"a raw image must be a whole number of {formats.SECTOR}-byte sectors; this one is {size} bytes"
        )
    return size


def _polyglot(found: set[str]) -> ImageRejected:
    shown = ", ".join("partition table" if name == "gpt" else name for name in sorted(found))
    return ImageRejected(f"the image matches more than one format ({shown}) and is not accepted")


def inspect_file(path, chunk_size: int = 1024 * 1024) -> InspectionResult:
    """Inspects a local file the way an import inspects its download."""
    inspector = StreamInspector()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            inspector.feed(chunk)
    return inspector.finish()
