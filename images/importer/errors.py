"""The importer's exceptions: each carries a `.message` that is safe to show (never a query string)."""

from __future__ import annotations

DOWNLOAD_FAILED = "the image could not be downloaded from the given URI"


class ImporterError(Exception):
    """Base of the importer's errors; `message` is what a caller may store, log or return."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UrlRejected(ImporterError):
    """The URI breaks the import policy; nothing was connected to."""


class FetchFailed(ImporterError):
    """The download failed (DNS, refused redirect, HTTP status, TLS, timeout, size limit, ...).

    The public message is the same for every cause, so a caller cannot probe the network through
    error messages; `detail` says what happened, for the log only, with the query string removed.
    """

    def __init__(self, detail: str):
        super().__init__(DOWNLOAD_FAILED)
        self.detail = detail


class ImageRejected(ImporterError):
    """The content is not a disk image we accept; the message says why, for a person."""


class ImportStalled(ImporterError):
    """The source sent too little for too long (the policy's minimum progress): the import gives its
    slot back instead of holding it until the total deadline."""


class ImportCancelled(ImporterError):
    def __init__(self, message: str = "the import was cancelled"):
        super().__init__(message)
