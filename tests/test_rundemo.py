"""`make run`: rundemo serves demo disk images, the backend imports one, and SIGTERM leaves nothing behind."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
from images.api.gen.yandex.cloud.compute.v1.image_service_pb2 import CreateImageMetadata
from tests.conftest import ApiClient
from tests.processes import free_port

ROOT = Path(__file__).resolve().parent.parent


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found |= {int(child)} | _descendants(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def rundemo(tmp_path):
    ports = {"http": free_port(), "grpc": free_port(), "store": free_port()}
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(IMAGESERVICE_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="images.settings")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", "--http-port", str(ports["http"]),
         "--grpc-port", str(ports["grpc"]), "--store-port", str(ports["store"])],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    banner = []
    try:
        while not banner or "Press Ctrl+C" not in banner[-1]:
            banner.append(lines.get(timeout=120))
        yield process, ports, "".join(banner), env
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_demo_imports_a_served_image_and_sigterm_stops_every_child(rundemo):
    process, ports, banner, env = rundemo
    assert f"http://127.0.0.1:{ports['http']}/" in banner
    uris = re.findall(r"(http://127\.0\.0\.1:\d+/\S+)", banner)
    assert any("slow" in uri for uri in uris) and any("missing" in uri for uri in uris)
    uri = next(u for u in uris if u.endswith("tiny-linux.qcow2"))
    token = subprocess.run(
        [sys.executable, "manage.py", "createtoken", "demo-test", "--role", "editor"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    api = ApiClient(f"127.0.0.1:{ports['grpc']}", token)
    try:
        request = image_service_pb2.CreateImageRequest(
            folder_id="demo-folder", name="from-demo-store", uri=uri
        )
        operation = api.call(api.images.Create, request)
        done = api.wait(operation.id, timeout=60)
        assert not done.HasField("error"), done.error
        metadata = CreateImageMetadata()
        operation.metadata.Unpack(metadata)
        image = api.call(api.images.Get, image_service_pb2.GetImageRequest(image_id=metadata.image_id))
        assert image.status == image.Status.READY and image.storage_size > 0
    finally:
        api.close()

    children = _descendants(process.pid)
    assert len(children) >= 2  # the backend and gunicorn (with its workers)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert [pid for pid in children if _alive(pid)] == []
    assert all(_port_free(port) for port in ports.values())
