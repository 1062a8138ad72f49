"""Fixtures of the backend API tests: a server whose worker runs nothing, so operations stay pending."""

from __future__ import annotations

import pytest

from tests.conftest import running_backend


@pytest.fixture
def paused_backend(transactional_db, data_dir):
    """A real server with no worker threads: every operation stays pending until cancelled."""
    with running_backend(workers=0) as handle:
        yield handle
