"""Memory stays bounded whatever the image size: a 1 GiB import grows peak RSS by less than 64 MiB."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GiB = 1024**3
LIMIT_KIB = 64 * 1024

# Run in a fresh interpreter so ru_maxrss (a high-water mark) measures this import alone.
SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, threading
    from images.importer import BlobStore, ImportPolicy, run_import

    port, data_dir = int(sys.argv[1]), sys.argv[2]
    policy = ImportPolicy(allowed_hosts=(f"127.0.0.1:{port}",), allow_http=True)
    store = BlobStore(data_dir)

    def peak_kib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # A small import first, so code paths and buffers are warm before the baseline.
    run_import(f"http://127.0.0.1:{port}/files/v3.qcow2", policy=policy, store=store, cancel=threading.Event())
    before = peak_kib()
    result = run_import(f"http://127.0.0.1:{port}/files/one-gib.raw", policy=policy, store=store,
                        cancel=threading.Event())
    print(json.dumps({"before": before, "after": peak_kib(), "stored": result.storage_size,
                      "format": result.disk_format}))
    """
)


@pytest.mark.slow
def test_importing_1_gib_grows_peak_rss_by_less_than_64_mib(server, disk_images, tmp_path):
    image = disk_images.root / "one-gib.raw"
    with open(image, "wb") as file:  # sparse: cheap to make, still 1 GiB on the wire
        file.truncate(GiB)
    try:
        completed = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(server.port), str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).resolve().parents[2],
            check=True,
        )
    finally:
        image.unlink()
    report = json.loads(completed.stdout)
    assert report["stored"] == GiB and report["format"] == "raw"
    assert report["after"] - report["before"] < LIMIT_KIB, report
