"""Regenerates the committed protobuf/gRPC modules under images/api/gen (``make protos``)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

API_DIR = Path(__file__).resolve().parent
PROTO_DIR = API_DIR / "protos"
GEN_DIR = API_DIR / "gen"
GEN_PACKAGE = "images.api.gen"
# Our own proto packages; imports of anything else (google.*) are left alone.
OWN_ROOTS = ("yandex", "imageservice")
_ROOTS_PATTERN = "|".join(OWN_ROOTS)
_IMPORT = re.compile(rf"^from ({_ROOTS_PATTERN})((?:\.\w+)*) import ", re.MULTILINE)


def generate(out_dir: Path) -> None:
    """Writes the generated modules for every .proto under PROTO_DIR into out_dir."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{well_known}",
        *_googleapis_include(),
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # protoc writes absolute imports (from yandex.cloud...); the SDK owns the top-level
    # `yandex` package, so ours live under images.api.gen and imports are rewritten to it.
    for path in out_dir.rglob("*.py*"):
        text = _IMPORT.sub(lambda m: f"from {GEN_PACKAGE}.{m.group(1)}{m.group(2)} import ", path.read_text())
        path.write_text(text)
    for directory in [out_dir, *(p for p in out_dir.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()


def _googleapis_include() -> list[str]:
    # google/rpc/status.proto ships with googleapis-common-protos; never vendored.
    import google.rpc

    root = Path(google.rpc.__path__[0]).parent.parent
    return [f"-I{root}"]


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else GEN_DIR
    generate(target)


if __name__ == "__main__":
    main()
