"""The content-addressed image store: blobs/<sha[:2]>/<sha256>, written through tmp/ and renamed."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_LABEL = re.compile(r"[a-z0-9]{1,50}")
_READ_SIZE = 1024 * 1024


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Image data named by its sha256. A blob appears whole or not at all: it is written to a
    temporary file in <root>/tmp/, fsynced, and only then renamed into <root>/blobs/.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.blobs_dir = self.root / "blobs"

    def path(self, sha256: str) -> Path:
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.blobs_dir / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self.path(sha256).stat().st_size

    def remove(self, sha256: str) -> bool:
        """Removes a blob; False when it was not there."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def verify(self, sha256: str) -> bool:
        """Re-hashes the stored data: False when it is missing or does not match its name."""
        digest = hashlib.sha256()
        try:
            with open(self.path(sha256), "rb") as file:
                while chunk := file.read(_READ_SIZE):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha256

    def cleanup_temp(self) -> int:
        """Removes every leftover temporary file (call at server start, before imports run)."""
        removed = 0
        if not self.tmp_dir.is_dir():
            return 0
        for entry in self.tmp_dir.iterdir():
            if entry.is_file() or entry.is_symlink():
                entry.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("removed %d leftover temporary import file(s) from %s", removed, self.tmp_dir)
        return removed

    def remove_temp(self, label: str) -> int:
        """Removes the temporary files of the writers given this label (an import a crash interrupted)."""
        if not _LABEL.fullmatch(label):
            raise ValueError("a temporary file label is 1 to 50 characters of [a-z0-9]")
        removed = 0
        for entry in self.tmp_dir.glob(f"import-{label}-*"):
            entry.unlink(missing_ok=True)
            removed += 1
        if removed:
            log.info("removed %d temporary import file(s) of %s", removed, label)
        return removed

    def writer(self, label: str = "") -> BlobWriter:
        """label (an operation id) goes into the temporary file's name, for remove_temp()."""
        return BlobWriter(self, label)


WRITEBACK_BYTES = 64 * 1024 * 1024


class BlobWriter:
    """Writes one blob while hashing it. Use as a context manager and call commit() at the end;
    leaving the block any other way (error, cancel) removes the temporary file.
    """

    def __init__(self, store: BlobStore, label: str = ""):
        if label and not _LABEL.fullmatch(label):
            raise ValueError("a temporary file label is 1 to 50 characters of [a-z0-9]")
        self.store = store
        self.size = 0
        self._flushed = 0
        self.sha256: str | None = None
        self._digest = hashlib.sha256()
        store.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            dir=store.tmp_dir, prefix=f"import-{label}-" if label else "import-", suffix=".part"
        )
        self.temp_path = Path(name)
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._digest.update(data)
        self.size += len(data)
        if self.size - self._flushed >= WRITEBACK_BYTES:
            self._start_writeback()

    def _start_writeback(self) -> None:
        # Hand what is written so far to the disk now and drop it from the page cache, instead of
        # piling up GiBs of dirty pages that the kernel then flushes in bursts, stalling everything.
        self._file.flush()
        fd = self._file.fileno()
        os.fdatasync(fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, self._flushed, self.size - self._flushed, os.POSIX_FADV_DONTNEED)
        self._flushed = self.size

    def commit(self) -> str:
        """Makes the data durable under its sha256 and returns the digest."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        sha256 = self._digest.hexdigest()
        destination = self.store.path(sha256)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():
            self.temp_path.unlink()  # the same content is already stored
        else:
            os.chmod(self.temp_path, 0o444)
            os.replace(self.temp_path, destination)
            _fsync_directory(destination.parent)
        self.sha256 = sha256
        return sha256

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        if self.sha256 is None:
            self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()
