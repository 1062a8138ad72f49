"""Format inspection: real qemu-img images accepted and sized like QEMU does; every refused case refused."""

from __future__ import annotations

import pytest

from images.importer.errors import ImageRejected
from images.importer.formats import MAX_VIRTUAL_SIZE
from images.importer.inspect import StreamInspector, inspect_file
from tests.importer import diskimages

ACCEPTED = [
    "v2.qcow2",
    "v3.qcow2",
    "v3-zstd.qcow2",
    "4tib.qcow2",
    "monolithicSparse.vmdk",
    "streamOptimized.vmdk",
    "fixed.vhd",
    "dynamic.vhd",
    "disk.raw",
    "data.raw",
]


def test_every_accepted_image_is_listed(disk_images):
    assert sorted(disk_images.accepted) == sorted(ACCEPTED)


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_image_agrees_with_qemu_img_on_format_and_virtual_size(disk_images, name):
    path, expected_format = disk_images.accepted[name]
    result = inspect_file(path)
    assert result.disk_format == expected_format
    info = diskimages.qemu_info(path, result.disk_format)
    assert info["format"] == diskimages.QEMU_FORMAT[result.disk_format]
    assert result.virtual_size == info["virtual-size"]


@pytest.mark.parametrize("name", ["v3.qcow2", "streamOptimized.vmdk", "dynamic.vhd", "fixed.vhd", "disk.raw"])
@pytest.mark.parametrize("chunk_size", [4096, 65537, 3 * 1024 * 1024])
def test_verdict_does_not_depend_on_how_the_stream_is_split(disk_images, name, chunk_size):
    path, _ = disk_images.accepted[name]
    assert inspect_file(path, chunk_size) == inspect_file(path)


def test_exactly_4_tib_is_accepted_and_one_cluster_more_is_not(disk_images):
    assert inspect_file(disk_images.path("4tib.qcow2")).virtual_size == MAX_VIRTUAL_SIZE
    with pytest.raises(ImageRejected, match="above the limit of 4 TiB"):
        inspect_file(disk_images.path("above-4tib.qcow2"))


def refused_names():
    # The list is fixed here (not read from the fixture) so that each case is its own test.
    return [
        "backing.qcow2",
        "backing-v2.qcow2",
        "backing-format-extension.qcow2",
        "data-file.qcow2",
        "data-file-bit.qcow2",
        "data-file-extension.qcow2",
        "aes.qcow2",
        "luks-encrypted.qcow2",
        "encryption-extension.qcow2",
        "corrupt.qcow2",
        "unknown-incompatible.qcow2",
        "extended-l2.qcow2",
        "version-1.qcow",
        "version-4.qcow2",
        "cluster-bits.qcow2",
        "above-4tib.qcow2",
        "zero-size.qcow2",
        "header-truncated.qcow2",
        "tables-truncated.qcow2",
        "data-truncated.qcow2",
        "compressed-truncated.qcow2",
        "flat.vmdk",
        "split.vmdk",
        "split-s001.vmdk",
        "descriptor-sparse.vmdk",
        "flat-type.vmdk",
        "flat-extent.vmdk",
        "parent-hint.vmdk",
        "parent-cid.vmdk",
        "hidden-parent-cid.vmdk",
        "two-create-types.vmdk",
        "two-extents.vmdk",
        "extent-path.vmdk",
        "extent-parent-dir.vmdk",
        "above-4tib.vmdk",
        "truncated.vmdk",
        "stream-truncated.vmdk",
        "sparse-truncated.vmdk",
        "cowd.vmdk",
        "differencing.vhd",
        "bad-checksum-fixed.vhd",
        "bad-checksum-dynamic.vhd",
        "fixed-footer-at-start.vhd",
        "truncated-dynamic.vhd",
        "above-4tib.vhd",
        "image.vhdx",
        "image.qed",
        "image.vdi",
        "image.luks",
        "image.iso",
        "qcow2-with-mbr.qcow2",
        "qcow2-with-vhd-footer.qcow2",
        "qcow2-with-iso.qcow2",
        "empty.raw",
        "text.raw",
        "small.raw",
        "odd-size.raw",
    ]


def test_every_refused_case_is_listed(disk_images):
    assert sorted(disk_images.refused) == sorted(refused_names())


@pytest.mark.parametrize("name", refused_names())
def test_refused_image_is_refused_with_a_message_a_person_understands(disk_images, name):
    path, expected = disk_images.refused[name]
    with pytest.raises(ImageRejected) as refused:
        inspect_file(path)
    assert expected in refused.value.message
    assert str(refused.value) == refused.value.message


def test_qemu_img_itself_follows_the_backing_file_we_refuse(disk_images):
    # The reason for the rule: without it, QEMU would open a file the uploader named.
    info = diskimages.qemu_info(disk_images.path("backing.qcow2"), "qcow2")
    assert info["backing-filename"].endswith("v3.qcow2")


@pytest.mark.parametrize(
    ("name", "bytes_needed"),
    [
        ("backing.qcow2", 72),
        ("corrupt.qcow2", 104),
        ("data-file-extension.qcow2", 4096),
        ("parent-hint.vmdk", 64 * 1024),
        ("differencing.vhd", 512),
        ("image.vhdx", 8),
        ("image.luks", 8),
        ("image.qed", 8),
    ],
)
def test_refusal_comes_from_the_header_before_the_rest_is_read(disk_images, name, bytes_needed):
    data = disk_images.path(name).read_bytes()
    inspector = StreamInspector()
    with pytest.raises(ImageRejected):
        for start in range(0, bytes_needed, 8):
            inspector.feed(data[start : start + 8])
    assert inspector.size <= bytes_needed


def test_an_iso_or_polyglot_is_refused_within_the_first_mib(disk_images):
    for name in ("image.iso", "qcow2-with-mbr.qcow2"):
        data = disk_images.path(name).read_bytes().ljust(8 * 1024 * 1024, b"\0")
        inspector = StreamInspector()
        with pytest.raises(ImageRejected):
            for start in range(0, len(data), 256 * 1024):
                inspector.feed(data[start : start + 256 * 1024])
        assert inspector.size <= 1024 * 1024


def test_a_text_file_is_raw_but_a_text_vmdk_descriptor_is_not(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"just some text\nversion 2 of it\n".ljust(1024 * 1024, b"\0"))
    assert inspect_file(notes).disk_format == "raw"
    descriptor = tmp_path / "descriptor.txt"
    descriptor.write_text("# comment\n\nversion=1\nCID=1\n")
    with pytest.raises(ImageRejected, match="VMDK descriptor files"):
        inspect_file(descriptor)


def test_a_single_byte_is_not_a_raw_disk(tmp_path):
    one = tmp_path / "one.raw"
    one.write_bytes(b"\x01")
    with pytest.raises(ImageRejected, match="a raw image must be at least 1 MiB; this one is 1 bytes"):
        inspect_file(one)


def test_the_smallest_raw_disk_is_one_mib_and_its_virtual_size_is_its_length(tmp_path):
    smallest = tmp_path / "smallest.raw"
    smallest.write_bytes(b"\x01" * (1024 * 1024))
    result = inspect_file(smallest)
    assert (result.disk_format, result.virtual_size) == ("raw", 1024 * 1024)


def test_a_raw_disk_with_an_invalid_partition_table_is_refused(tmp_path, disk_images):
    disk = bytearray(disk_images.path("disk.raw").read_bytes())
    disk[446] = 0x42  # a boot flag that is neither 0x00 nor 0x80
    path = tmp_path / "bad-mbr.raw"
    path.write_bytes(bytes(disk))
    with pytest.raises(ImageRejected, match="invalid partition table"):
        inspect_file(path)
