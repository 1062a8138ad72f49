"""Fixtures of the backend API tests: a server whose worker runs nothing, so operations stay pending."""

from __future__ import annotations

import pytest

from tests.conftest import Backend


@pytest.fixture
def paused_backend(transactional_db, data_dir):
    """A real server with no worker threads: every operation stays pending until cancelled."""
    from images.server import build_server

    server = build_server(host="127.0.0.1", port=0, workers=0, tls_cert="", tls_key="")
    server.start()
    handle = Backend(server)
    try:
        yield handle
    finally:
        handle.close()
        server.stop(grace=1)
