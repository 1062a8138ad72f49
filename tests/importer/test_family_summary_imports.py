"""The family summary through imports: a failed import and a cancelled one roll back with the image,
and the import that finishes makes its image the family's latest."""

from __future__ import annotations

from tests.backend.semantics.helpers import cancel
from tests.backend.semantics.test_family_summary import assert_summary_true
from tests.backend.support import wait_until
from tests.importer.test_api_import import (  # noqa: F401 (fixtures)
    FOLDER,
    MiB,
    api,
    client,
    create,
    held_server,
    http,
    import_settings,
    temp_files,
)

UNAVAILABLE, CANCELLED = 14, 1


def test_failed_and_cancelled_imports_leave_the_family_as_it_was(client, http, data_dir):  # noqa: F811
    done = client.wait(create(client, http.url("/files/disk.raw"), name="os-1", family="linux").id)
    assert done.WhichOneof("result") == "response", done.error
    before = assert_summary_true(client, FOLDER)
    assert before[0][1] == 1 and before[0][3]

    failing = create(client, http.url("/status/404"), name="os-2", family="linux")
    assert client.wait(failing.id).error.code == UNAVAILABLE
    assert assert_summary_true(client, FOLDER) == before

    slow = create(client, http.url("/slow/disk.raw"), name="os-3", family="linux")
    assert assert_summary_true(client, FOLDER)[0][1] == 2  # counted while CREATING
    wait_until(lambda: sum(p.stat().st_size for p in temp_files(data_dir)) >= MiB, timeout=10)
    cancel(client, slow.id)
    assert client.wait(slow.id).error.code == CANCELLED
    assert assert_summary_true(client, FOLDER) == before

    failing_new = create(client, http.url("/status/500"), name="fresh-1", family="fresh")
    assert [name for name, *_ in assert_summary_true(client, FOLDER)] == ["fresh", "linux"]
    assert client.wait(failing_new.id).error.code == UNAVAILABLE
    assert assert_summary_true(client, FOLDER) == before
