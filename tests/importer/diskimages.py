"""Builds the test disk images: real ones with qemu-img, refused ones patched or written by hand."""

from __future__ import annotations

import json
import random
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024
TiB = 1024**4
QEMU_FORMAT = {"qcow2": "qcow2", "vmdk": "vmdk", "vhd": "vpc", "raw": "raw"}


def qemu_img(*args: str | Path) -> str:
    return subprocess.run(
        ["qemu-img", *map(str, args)], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def qemu_info(path: Path, disk_format: str) -> dict:
    return json.loads(qemu_img("info", "--output=json", "-f", QEMU_FORMAT[disk_format], path))


def mbr(partition_sectors: int) -> bytes:
    """A classic MBR with one bootable Linux partition starting at 1 MiB."""
    sector = bytearray(512)
    sector[446:462] = struct.pack(
        "<B3sB3sII", 0x80, b"\x00\x21\x00", 0x83, b"\xfe\xff\xff", 2048, partition_sectors
    )
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def iso_primary_volume_descriptor(blocks: int) -> bytes:
    descriptor = bytearray(2048)
    descriptor[0:7] = b"\x01CD001\x01"
    descriptor[80:88] = struct.pack("<I", blocks) + struct.pack(">I", blocks)
    descriptor[128:132] = struct.pack("<H", 2048) + struct.pack(">H", 2048)
    return bytes(descriptor)


def vhd_checksum(data: bytearray, at: int) -> None:
    data[at : at + 4] = b"\0\0\0\0"
    data[at : at + 4] = struct.pack(">I", ~sum(data) & 0xFFFFFFFF)


def patched(src: Path, dst: Path, edits: dict[int, bytes], *, truncate: int | None = None) -> Path:
    data = bytearray(src.read_bytes())
    for offset, value in edits.items():
        data[offset : offset + len(value)] = value
    dst.write_bytes(bytes(data[:truncate] if truncate is not None else data))
    return dst


def qcow2_first_extension(path: Path) -> int:
    data = path.read_bytes()
    (version,) = struct.unpack_from(">I", data, 4)
    return struct.unpack_from(">I", data, 100)[0] if version == 3 else 72


def vmdk_with_descriptor(src: Path, dst: Path, edit) -> Path:
    """Rewrites the embedded descriptor of a sparse VMDK (it must still fit its sectors)."""
    data = bytearray(src.read_bytes())
    (desc_sectors,) = struct.unpack_from("<Q", data, 36)
    area = slice(512, 512 + desc_sectors * 512)
    text = bytes(data[area]).split(b"\0", 1)[0].decode()
    new = edit(text).encode()
    assert len(new) < desc_sectors * 512
    data[area] = new.ljust(desc_sectors * 512, b"\0")
    dst.write_bytes(bytes(data))
    return dst


@dataclass
class DiskImages:
    root: Path
    # name -> (path, our disk_format)
    accepted: dict[str, tuple[Path, str]] = field(default_factory=dict)
    # name -> (path, a fragment of the expected refusal message)
    refused: dict[str, tuple[Path, str]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.root / name


def build(root: Path) -> DiskImages:
    images = DiskImages(root)
    p = root.joinpath

    # A small partitioned disk with recognisable data, the source of every converted image.
    rng = random.Random(4)
    source = bytearray(6 * MiB)
    source[0:512] = mbr(8192)
    source[1 * MiB : 3 * MiB] = rng.randbytes(2 * MiB)
    source[5 * MiB : 5 * MiB + 4096] = b"end of the disk " * 256
    p("disk.raw").write_bytes(bytes(source))
    p("data.raw").write_bytes(rng.randbytes(3 * MiB + 24 * 512))  # unpartitioned, not whole MiBs

    convert = {
        "v2.qcow2": ("qcow2", ["-o", "compat=0.10"]),
        "v3.qcow2": ("qcow2", ["-o", "compat=1.1"]),
        "v3-zstd.qcow2": ("qcow2", ["-o", "compat=1.1,compression_type=zstd", "-c"]),
        "monolithicSparse.vmdk": ("vmdk", ["-o", "subformat=monolithicSparse"]),
        "streamOptimized.vmdk": ("vmdk", ["-o", "subformat=streamOptimized"]),
        "fixed.vhd": ("vpc", ["-o", "subformat=fixed"]),
        "dynamic.vhd": ("vpc", ["-o", "subformat=dynamic"]),
    }
    for name, (qemu_format, options) in convert.items():
        qemu_img("convert", "-f", "raw", "-O", qemu_format, *options, p("disk.raw"), p(name))
        ours = {"vpc": "vhd"}.get(qemu_format, qemu_format)
        images.accepted[name] = (p(name), ours)
    images.accepted["disk.raw"] = (p("disk.raw"), "raw")
    images.accepted["data.raw"] = (p("data.raw"), "raw")
    qemu_img("create", "-f", "qcow2", p("4tib.qcow2"), "4T")
    images.accepted["4tib.qcow2"] = (p("4tib.qcow2"), "qcow2")

    refuse = images.refused
    v3, v2 = p("v3.qcow2"), p("v2.qcow2")
    ext = qcow2_first_extension(v3)

    # --- qcow2 ---
    qemu_img("create", "-f", "qcow2", "-b", v3, "-F", "qcow2", p("backing.qcow2"))
    refuse["backing.qcow2"] = (p("backing.qcow2"), "qcow2 images with a backing file are not accepted")
    refuse["backing-v2.qcow2"] = (
        patched(v2, p("backing-v2.qcow2"), {8: struct.pack(">QI", 0x200, 8), 0x200: b"base.img"}),
        "qcow2 images with a backing file are not accepted",
    )
    refuse["backing-format-extension.qcow2"] = (
        patched(v3, p("backing-format-extension.qcow2"), {ext: struct.pack(">I", 0xE2792ACA)}),
        "qcow2 images with a backing file are not accepted",
    )
    qemu_img("create", "-f", "qcow2", "-o", f"data_file={p('external.raw')}", p("data-file.qcow2"), "1M")
    refuse["data-file.qcow2"] = (
        p("data-file.qcow2"),
        "qcow2 images with an external data file are not accepted",
    )
    refuse["data-file-bit.qcow2"] = (
        patched(v3, p("data-file-bit.qcow2"), {72: struct.pack(">Q", 4)}),
        "qcow2 images with an external data file are not accepted",
    )
    refuse["data-file-extension.qcow2"] = (
        patched(v3, p("data-file-extension.qcow2"), {ext: struct.pack(">I", 0x44415441)}),
        "qcow2 images with an external data file are not accepted",
    )
    refuse["aes.qcow2"] = (patched(v3, p("aes.qcow2"), {32: struct.pack(">I", 1)}), "encrypted qcow2")
    refuse["luks-encrypted.qcow2"] = (
        patched(v3, p("luks-encrypted.qcow2"), {32: struct.pack(">I", 2)}),
        "encrypted qcow2",
    )
    refuse["encryption-extension.qcow2"] = (
        patched(v3, p("encryption-extension.qcow2"), {ext: struct.pack(">I", 0x0537BE77)}),
        "encrypted qcow2",
    )
    refuse["corrupt.qcow2"] = (patched(v3, p("corrupt.qcow2"), {72: struct.pack(">Q", 2)}), "marked corrupt")
    refuse["unknown-incompatible.qcow2"] = (
        patched(v3, p("unknown-incompatible.qcow2"), {72: struct.pack(">Q", 1 << 40)}),
        "unknown incompatible features",
    )
    qemu_img("create", "-f", "qcow2", "-o", "extended_l2=on", p("extended-l2.qcow2"), "1M")
    refuse["extended-l2.qcow2"] = (p("extended-l2.qcow2"), "extended L2")
    refuse["version-1.qcow"] = (patched(v2, p("version-1.qcow"), {4: struct.pack(">I", 1)}), "qcow version 1")
    refuse["version-4.qcow2"] = (
        patched(v3, p("version-4.qcow2"), {4: struct.pack(">I", 4)}),
        "qcow2 version 4",
    )
    refuse["cluster-bits.qcow2"] = (
        patched(v3, p("cluster-bits.qcow2"), {20: struct.pack(">I", 30)}),
        "invalid",
    )
    qemu_img("create", "-f", "qcow2", p("above-4tib.qcow2"), str(4 * TiB + 65536))
    refuse["above-4tib.qcow2"] = (p("above-4tib.qcow2"), "above the limit of 4 TiB")
    qemu_img("create", "-f", "qcow2", p("zero-size.qcow2"), "0")
    refuse["zero-size.qcow2"] = (p("zero-size.qcow2"), "virtual size of 0")
    refuse["header-truncated.qcow2"] = (
        patched(v3, p("header-truncated.qcow2"), {}, truncate=60),
        "truncated",
    )
    refuse["tables-truncated.qcow2"] = (
        patched(v3, p("tables-truncated.qcow2"), {}, truncate=128 * 1024),
        "truncated",
    )
    refuse["data-truncated.qcow2"] = (
        patched(v3, p("data-truncated.qcow2"), {}, truncate=v3.stat().st_size // 2),
        "truncated",
    )
    zstd = p("v3-zstd.qcow2")
    refuse["compressed-truncated.qcow2"] = (
        patched(zstd, p("compressed-truncated.qcow2"), {}, truncate=zstd.stat().st_size - 4096),
        "truncated",
    )

    # --- VMDK ---
    sparse, stream = p("monolithicSparse.vmdk"), p("streamOptimized.vmdk")
    qemu_img("create", "-f", "vmdk", "-o", "subformat=monolithicFlat", p("flat.vmdk"), "1M")
    refuse["flat.vmdk"] = (p("flat.vmdk"), "VMDK descriptor files are not accepted")
    qemu_img("create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", p("split.vmdk"), "1M")
    refuse["split.vmdk"] = (p("split.vmdk"), "VMDK descriptor files are not accepted")
    refuse["split-s001.vmdk"] = (p("split-s001.vmdk"), "VMDK images of type unknown are not accepted")
    p("descriptor-sparse.vmdk").write_text(
        '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicSparse"\n'
        'RW 12288 SPARSE "monolithicSparse.vmdk"\n'
    )
    refuse["descriptor-sparse.vmdk"] = (p("descriptor-sparse.vmdk"), "VMDK descriptor files are not accepted")
    refuse["flat-type.vmdk"] = (
        vmdk_with_descriptor(
            sparse, p("flat-type.vmdk"), lambda t: t.replace("monolithicSparse", "monolithicFlat")
        ),
        "VMDK images of type monolithicflat are not accepted",
    )
    refuse["flat-extent.vmdk"] = (
        vmdk_with_descriptor(sparse, p("flat-extent.vmdk"), lambda t: t.replace(" SPARSE ", " FLAT ")),
        "VMDK extents of type FLAT are not accepted",
    )
    refuse["parent-hint.vmdk"] = (
        vmdk_with_descriptor(
            sparse,
            p("parent-hint.vmdk"),
            lambda t: t.replace(
                "parentCID=ffffffff\n", 'parentCID=ffffffff\nparentFileNameHint="base.vmdk"\n'
            ),
        ),
        "VMDK images with a parent disk (parentFileNameHint)",
    )
    refuse["parent-cid.vmdk"] = (
        vmdk_with_descriptor(
            sparse, p("parent-cid.vmdk"), lambda t: t.replace("parentCID=ffffffff", "parentCID=12345678")
        ),
        "VMDK images with a parent disk (parentCID)",
    )
    refuse["hidden-parent-cid.vmdk"] = (
        vmdk_with_descriptor(
            sparse,
            p("hidden-parent-cid.vmdk"),
            lambda t: t + 'ddb.comment.parentCID = "12345678"\n',
        ),
        "names parentCID more than once or inside another line",
    )
    refuse["two-create-types.vmdk"] = (
        vmdk_with_descriptor(
            sparse,
            p("two-create-types.vmdk"),
            lambda t: t.replace(
                'createType="monolithicSparse"', 'createType="monolithicSparse"\ncreateType="vmfs"'
            ),
        ),
        "names createType more than once",
    )
    refuse["two-extents.vmdk"] = (
        vmdk_with_descriptor(
            sparse,
            p("two-extents.vmdk"),
            lambda t: t.replace('.vmdk"\n', '.vmdk"\nRW 12288 SPARSE "other.vmdk"\n', 1),
        ),
        "exactly one extent; this one has 2",
    )
    refuse["extent-path.vmdk"] = (
        vmdk_with_descriptor(
            sparse, p("extent-path.vmdk"), lambda t: t.replace('"monolithicSparse.vmdk"', '"/etc/passwd"')
        ),
        "VMDK extents that name a path are not accepted",
    )
    refuse["extent-parent-dir.vmdk"] = (
        vmdk_with_descriptor(
            sparse, p("extent-parent-dir.vmdk"), lambda t: t.replace('"monolithicSparse.vmdk"', '"..\\x"')
        ),
        "VMDK extents that name a path are not accepted",
    )
    refuse["above-4tib.vmdk"] = (
        patched(sparse, p("above-4tib.vmdk"), {12: struct.pack("<Q", (4 * TiB) // 512 + 128)}),
        "above the limit of 4 TiB",
    )
    refuse["truncated.vmdk"] = (patched(sparse, p("truncated.vmdk"), {}, truncate=300), "truncated")
    refuse["stream-truncated.vmdk"] = (
        patched(stream, p("stream-truncated.vmdk"), {}, truncate=stream.stat().st_size // 2),
        "truncated",
    )
    refuse["sparse-truncated.vmdk"] = (
        patched(sparse, p("sparse-truncated.vmdk"), {}, truncate=sparse.stat().st_size // 2),
        "truncated",
    )
    refuse["cowd.vmdk"] = (patched(p("data.raw"), p("cowd.vmdk"), {0: b"COWD\x01\0\0\0"}), "COWD")

    # --- VHD ---
    fixed, dynamic = p("fixed.vhd"), p("dynamic.vhd")
    dynamic_size = dynamic.stat().st_size
    footer = bytearray(dynamic.read_bytes()[:512])
    footer[60:64] = struct.pack(">I", 4)
    vhd_checksum(footer, 64)
    refuse["differencing.vhd"] = (
        patched(dynamic, p("differencing.vhd"), {0: bytes(footer), dynamic_size - 512: bytes(footer)}),
        "differencing VHD images are not accepted",
    )
    fixed_size = fixed.stat().st_size
    refuse["bad-checksum-fixed.vhd"] = (
        patched(fixed, p("bad-checksum-fixed.vhd"), {fixed_size - 512 + 100: b"\x01"}),
        "bad footer checksum",
    )
    refuse["bad-checksum-dynamic.vhd"] = (
        patched(dynamic, p("bad-checksum-dynamic.vhd"), {100: b"\x01"}),
        "bad footer checksum",
    )
    fixed_footer = fixed.read_bytes()[-512:]
    p("fixed-footer-at-start.vhd").write_bytes(fixed_footer + fixed.read_bytes())
    refuse["fixed-footer-at-start.vhd"] = (p("fixed-footer-at-start.vhd"), "footer only at the end")
    refuse["truncated-dynamic.vhd"] = (
        patched(dynamic, p("truncated-dynamic.vhd"), {}, truncate=dynamic_size - 4096),
        "truncated",
    )
    big = bytearray(fixed_footer)
    big[40:56] = struct.pack(">QQ", 5 * TiB, 5 * TiB)
    vhd_checksum(big, 64)
    refuse["above-4tib.vhd"] = (
        patched(fixed, p("above-4tib.vhd"), {fixed_size - 512: bytes(big)}),
        "above the limit",
    )

    # --- formats refused outright ---
    qemu_img("create", "-f", "vhdx", p("image.vhdx"), "8M")
    refuse["image.vhdx"] = (p("image.vhdx"), "VHDX images are not accepted")
    qemu_img("create", "-f", "qed", p("image.qed"), "8M")
    refuse["image.qed"] = (p("image.qed"), "QED images are not accepted")
    qemu_img("create", "-f", "vdi", p("image.vdi"), "8M")
    refuse["image.vdi"] = (p("image.vdi"), "VDI images are not accepted")
    luks = bytearray(4096)
    luks[0:8] = b"LUKS\xba\xbe\x00\x01"
    luks[8:40] = b"aes".ljust(32, b"\0")
    luks[40:72] = b"xts-plain64".ljust(32, b"\0")
    luks[72:104] = b"sha256".ljust(32, b"\0")
    p("image.luks").write_bytes(bytes(luks) + bytes(MiB))
    refuse["image.luks"] = (p("image.luks"), "LUKS-encrypted images are not accepted")
    iso = bytearray(64 * 1024)
    iso[0x8000:0x8800] = iso_primary_volume_descriptor(32)
    iso[0x8800:0x8807] = b"\xffCD001\x01"  # the volume descriptor set terminator
    p("image.iso").write_bytes(bytes(iso))
    refuse["image.iso"] = (p("image.iso"), "ISO images are not accepted")

    # --- files that are two formats at once ---
    refuse["qcow2-with-mbr.qcow2"] = (
        patched(v3, p("qcow2-with-mbr.qcow2"), {446: mbr(8192)[446:]}),
        "matches more than one format (partition table, qcow2)",
    )
    p("qcow2-with-vhd-footer.qcow2").write_bytes(v3.read_bytes() + fixed_footer)
    refuse["qcow2-with-vhd-footer.qcow2"] = (
        p("qcow2-with-vhd-footer.qcow2"),
        "matches more than one format (qcow2, vhd)",
    )
    refuse["qcow2-with-iso.qcow2"] = (
        patched(v3, p("qcow2-with-iso.qcow2"), {0x8000: iso_primary_volume_descriptor(32)}),
        "ISO images are not accepted",
    )

    # --- nothing, or not enough ---
    p("empty.raw").write_bytes(b"")
    refuse["empty.raw"] = (p("empty.raw"), "the image is empty")
    p("text.raw").write_bytes(b"hello world\n")
    refuse["text.raw"] = (p("text.raw"), "a raw image must be at least 1 MiB")
    p("small.raw").write_bytes(rng.randbytes(MiB - 512))
    refuse["small.raw"] = (p("small.raw"), "a raw image must be at least 1 MiB")
    p("odd-size.raw").write_bytes(rng.randbytes(2 * MiB + 1))
    refuse["odd-size.raw"] = (p("odd-size.raw"), "a raw image must be a whole number of 512-byte sectors")
    return images
