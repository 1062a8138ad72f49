"""The content-addressed store: atomic commit under the sha256, dedup, verify, cleanup of leftovers."""

from __future__ import annotations

import hashlib
import os

import pytest

from images.importer.store import BlobStore


def write_blob(store: BlobStore, *chunks: bytes) -> str:
    with store.writer() as blob:
        for chunk in chunks:
            blob.write(chunk)
        return blob.commit()


def test_commit_stores_the_data_under_its_sha256(store):
    sha = write_blob(store, b"hello ", b"world")
    assert sha == hashlib.sha256(b"hello world").hexdigest()
    assert store.path(sha) == store.root / "blobs" / sha[:2] / sha
    assert store.path(sha).read_bytes() == b"hello world"
    assert store.exists(sha) and store.size(sha) == 11
    assert list((store.root / "tmp").iterdir()) == []


def test_stored_blobs_are_read_only(store):
    sha = write_blob(store, b"data")
    assert store.path(sha).stat().st_mode & 0o222 == 0


def test_committing_the_same_content_twice_keeps_one_blob_and_no_temp(store):
    first = write_blob(store, b"same")
    inode = store.path(first).stat().st_ino
    second = write_blob(store, b"sa", b"me")
    assert first == second
    assert store.path(first).stat().st_ino == inode
    assert list((store.root / "tmp").iterdir()) == []


def test_a_failure_inside_the_writer_removes_the_temp_file_and_stores_nothing(store):
    with pytest.raises(RuntimeError):
        with store.writer() as blob:
            blob.write(b"partial")
            assert blob.temp_path.parent == store.root / "tmp" and blob.temp_path.exists()
            raise RuntimeError("download failed")
    assert list((store.root / "tmp").iterdir()) == []
    assert not (store.root / "blobs").exists() or list((store.root / "blobs").rglob("*")) == []


def test_verify_rehashes_the_data(store):
    sha = write_blob(store, b"precious bits")
    assert store.verify(sha)
    path = store.path(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"precious bitz")
    assert not store.verify(sha)
    store.remove(sha)
    assert not store.verify(sha)


def test_remove_reports_whether_there_was_something(store):
    sha = write_blob(store, b"x")
    assert store.remove(sha) is True
    assert store.remove(sha) is False
    assert not store.exists(sha)


def test_cleanup_temp_removes_every_leftover_after_a_crash(store):
    sha = write_blob(store, b"kept")
    crashed = store.writer()  # a writer the process never finished
    crashed.write(b"half an image")
    (store.root / "tmp" / "import-old.part").write_bytes(b"older leftover")
    assert store.cleanup_temp() == 2
    assert list((store.root / "tmp").iterdir()) == []
    assert store.verify(sha)
    assert BlobStore(store.root / "elsewhere").cleanup_temp() == 0


@pytest.mark.parametrize("name", ["", "abc", "../" + "0" * 61, "A" * 64, "0" * 63 + "/", None])
def test_paths_accept_only_a_sha256_hex_digest(store, name):
    with pytest.raises(ValueError):
        store.path(name)
