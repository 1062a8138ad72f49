"""Dashboard benchmark: the image list of a 100,000-image folder, page and fragment, then under gunicorn.

Server time is measured through Django's WSGI handler in this process (the backend runs in its
own process, so every render includes its real gRPC List call); throughput is wrk against
gunicorn with 2 workers at concurrency 8. Run by `python -m benchmarks dashboard`; prints JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "bench-folder"
IMAGES = int(os.environ.get("BENCH_IMAGES", "100000"))
URL = f"/f/{FOLDER}/images/"


def main() -> None:
    # This harness seeds the backend's data and drives the dashboard's views in one process, as
    # the test run does, so it installs both apps; the servers it starts get their own settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("IMAGESERVICE_LOG_LEVEL", "WARNING")
    from benchmarks.harness import free_port, latency, start_backend, wait_until

    grpc_port, http_port = free_port(), free_port()
    os.environ["IMAGESERVICE_BACKEND_ADDRESS"] = f"127.0.0.1:{grpc_port}"
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from benchmarks.seed import seed_images
    from images.domain.auth import create_token

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    seed_images(FOLDER, count=IMAGES, families=1000)
    token = create_token(name="bench-dashboard", role="viewer")
    call_command("createdashboarduser", "bench", role="viewer", password="bench-password-1", token=token)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()

    env = dict(os.environ)
    backend = start_backend(grpc_port, env=env)
    gunicorn = None
    try:
        client = Client()
        client.force_login(get_user_model().objects.get(username="bench"))

        def ready() -> bool:
            try:
                return client.get(URL).status_code == 200
            except Exception:
                return False

        wait_until(ready, timeout=60, what="the dashboard to list images")
        full = client.get(URL)
        fragment = client.get(URL, headers={"HX-Request": "true"})
        assert full.status_code == 200 and fragment.status_code == 200
        rows = len(re.findall(rb"<tr[ >]", full.content)) - 1
        results = {
            "rows": rows,
            "full_bytes": len(full.content),
            "fragment_bytes": len(fragment.content),
            "full": latency(lambda: client.get(URL), count=300, warmup=30),
            "fragment": latency(
                lambda: client.get(URL, headers={"HX-Request": "true"}), count=300, warmup=30
            ),
        }
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        connection.close()
        # gunicorn runs the dashboard's own settings: hashed, precompressed static files, as `make run`.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=dict(env, DJANGO_SETTINGS_MODULE="dashboard.settings"),
            check=True,
        )
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "dashboard.wsgi", "--workers", "2", "-c", "python:dashboard.gunicorn_conf",
             "--bind", f"127.0.0.1:{http_port}", "--log-level", "warning"],
            cwd=ROOT,
            env=dict(env, DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_SETTINGS_MODULE="dashboard.settings"),
        )  # fmt: skip
        results["gunicorn_pages_per_s"] = _wrk(f"http://127.0.0.1:{http_port}{URL}", cookie, wait_until)
        results["transfer"] = page_transfer(f"http://127.0.0.1:{http_port}", URL, cookie)
        results["export"] = _export(f"http://127.0.0.1:{http_port}", cookie, gunicorn.pid)
    finally:
        for process in (gunicorn, backend):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    print(json.dumps(results))


def _wrk(url: str, cookie: str, wait_until) -> float | None:
    import urllib.request

    def up() -> bool:
        try:
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            return urllib.request.urlopen(request, timeout=2).status == 200
        except OSError:
            return False

    wait_until(up, timeout=60, what="gunicorn")
    if shutil.which("wrk") is None:
        print("wrk is not installed (make bench installs it); skipping the throughput run", file=sys.stderr)
        return None
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", "8", "-d", "10s", "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        raise RuntimeError(f"wrk saw error responses:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def page_transfer(base: str, path: str, cookie: str) -> dict:
    """Bytes on the wire (status line, headers and body, as a browser taking gzip receives them) of a
    first visit to `path` (the page and every static file it links) and of a repeat visit (the page
    again, and only the static files whose Cache-Control does not let the browser keep them)."""
    import gzip
    import http.client
    from urllib.parse import urlsplit

    host = urlsplit(base).netloc

    def fetch(url: str) -> tuple[int, str, bytes]:
        conn = http.client.HTTPConnection(host, timeout=30)
        conn.request("GET", url, headers={"Cookie": cookie, "Accept-Encoding": "gzip, deflate, br"})
        response = conn.getresponse()
        body = response.read()
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n{response.msg.as_string()}"
        conn.close()
        assert response.status == 200, (url, response.status)
        return len(head.encode()) + len(body), response.getheader("Cache-Control", ""), body

    page_bytes, _, body = fetch(path)
    encoded = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', encoded.decode())
    first = repeat = page_bytes
    kept = 0
    for asset in assets:
        size, cache_control, _ = fetch(asset)
        first += size
        if "immutable" in cache_control:
            kept += 1
        else:
            repeat += size
    return {"first": first, "repeat": repeat, "page": page_bytes, "assets": len(assets), "cached": kept}


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _export(base: str, cookie: str, master: int) -> dict:
    """The CSV export of every image in the folder through gunicorn: wall time, rows, and the serving
    worker's peak RSS growth (VmHWM after, over VmRSS before, with the peak reset between)."""
    import time
    import urllib.request

    def fetch(path: str) -> tuple[int, int]:
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        lines = size = 0
        with urllib.request.urlopen(request, timeout=600) as response:
            while chunk := response.read(1 << 16):
                size += len(chunk)
                lines += chunk.count(b"\n")
        return lines, size

    for _ in range(4):  # both workers import the export path before the measured run
        fetch(f"{URL}export.csv?family=family-0000")
    workers = _workers(master)
    before = {}
    for pid in workers:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        before[pid] = _status_kib(pid, "VmRSS")
    start = time.perf_counter()
    lines, size = fetch(f"{URL}export.csv")
    seconds = time.perf_counter() - start
    growth = max(_status_kib(pid, "VmHWM") - before[pid] for pid in workers)
    return {"rows": lines - 1, "bytes": size, "seconds": seconds, "peak_rss_growth_mib": growth / 1024}


if __name__ == "__main__":
    main()
