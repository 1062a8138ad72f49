"""Small measuring tools shared by the benchmarks: latency percentiles, throughput, free ports."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def samples(call: Callable[[], object], *, count: int, warmup: int = 50) -> list[float]:
    """Milliseconds of each of `count` sequential calls, after `warmup` unmeasured ones."""
    for _ in range(warmup):
        call()
    measured = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        measured.append((time.perf_counter() - started) * 1000)
    return measured


def latency(call: Callable[[], object], *, count: int, warmup: int = 50) -> dict[str, float]:
    """p50/p99 in milliseconds of `count` sequential calls, after `warmup` unmeasured ones."""
    measured = samples(call, count=count, warmup=warmup)
    return {
        "p50": statistics.median(measured),
        "p99": percentile(measured, 0.99),
        "count": count,
    }


def throughput(call: Callable[[], object], *, threads: int, seconds: float) -> float:
    """Completed calls per second with `threads` callers running for `seconds`."""
    stop = time.monotonic() + seconds
    counts = [0] * threads
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            while time.monotonic() < stop:
                call()
                counts[index] += 1
        except BaseException as error:  # a benchmark must not hide failures
            errors.append(error)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return sum(counts) / (time.monotonic() - started)


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_backend(port: int, *args: str, env: dict | None = None, log=subprocess.DEVNULL) -> subprocess.Popen:
    """Starts `manage.py grpcserver` on 127.0.0.1:port and returns once health reports SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    # The backend process runs with the backend's settings, whatever this process uses.
    env = dict(os.environ if env is None else env, DJANGO_SETTINGS_MODULE="images.settings")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "grpcserver", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)

        def serving() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"grpcserver exited with code {process.returncode}")
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
            except grpc.RpcError:
                return False
            return reply.status == health_pb2.HealthCheckResponse.SERVING

        try:
            wait_until(serving, timeout=60, what="the server to report SERVING")
        except BaseException:
            process.kill()  # a server that never served must not outlive the benchmark
            process.wait()
            raise
    return process
