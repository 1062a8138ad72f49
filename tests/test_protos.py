"""The committed generated protobuf code matches what `make protos` produces now."""

import filecmp
from pathlib import Path

from images.api import build


def test_committed_generated_code_is_current(tmp_path: Path):
    fresh = tmp_path / "gen"
    build.generate(fresh)
    committed = build.GEN_DIR
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = sorted(
        p.relative_to(committed) for p in committed.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert fresh_files == committed_files
    stale = [str(p) for p in fresh_files if not filecmp.cmp(fresh / p, committed / p, shallow=False)]
    assert stale == [], f"run `make protos`: stale generated files {stale}"


def test_image_message_field_numbers_match_the_contract():
    from images.api.gen.yandex.cloud.compute.v1 import image_pb2

    fields = {f.name: f.number for f in image_pb2.Image.DESCRIPTOR.fields}
    assert fields == {
        "id": 1, "folder_id": 2, "created_at": 3, "name": 4, "description": 5, "labels": 6,
        "family": 7, "storage_size": 8, "min_disk_size": 9, "product_ids": 10, "status": 11,
        "os": 12, "pooled": 13, "size": 16,
    }  # fmt: skip
