"""Fixtures of the dashboard view tests (defined in tests/dashboard/fixtures.py, shared with the browser tests)."""

from tests.dashboard.fixtures import dashboard, editor, editor_client, seed, viewer, viewer_client  # noqa: F401
