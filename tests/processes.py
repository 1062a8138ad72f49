"""Helpers for tests that run the backend as a separate process against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import grpc
from django.conf import settings
from django.db import connection
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.backend.support import wait_until


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (for a process that cannot report its own)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database as a DATABASE_URL, for a process that is not the test run."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgresql://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class ServerProcess:
    """`manage.py grpcserver` on 127.0.0.1:port against the test database, its output in log_dir;
    env adds or overrides environment settings of that process, args adds command-line options."""

    def __init__(
        self,
        port: int,
        log_dir: Path,
        workers: int = 1,
        name: str = "server",
        env: dict | None = None,
        args: tuple[str, ...] = (),
    ):
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.stdout = log_dir / f"{name}.out"
        self.stderr = log_dir / f"{name}.err"
        environment = dict(os.environ)
        environment.update(
            DATABASE_URL=database_url(),
            IMAGESERVICE_DATA_DIR=str(log_dir / "data"),
            DJANGO_SETTINGS_MODULE="images.settings",
            PYTHONUNBUFFERED="1",
        )
        environment.update(env or {})
        manage = Path(settings.BASE_DIR) / "manage.py"
        command = [sys.executable, str(manage), "grpcserver", "--host", "127.0.0.1", "--port", str(port)]
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [*command, "--workers", str(workers), *args],
                env=environment,
                stdout=out,
                stderr=err,
                cwd=settings.BASE_DIR,
            )

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def health(self, timeout: float = 1.0):
        channel = grpc.insecure_channel(self.address)
        try:
            return (
                health_pb2_grpc.HealthStub(channel)
                .Check(health_pb2.HealthCheckRequest(), timeout=timeout)
                .status
            )
        except grpc.RpcError:
            return None
        finally:
            channel.close()

    def wait_serving(self, timeout: float = 60.0) -> None:
        def serving():
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.output()}")
            return self.health() == health_pb2.HealthCheckResponse.SERVING

        wait_until(serving, timeout=timeout, interval=0.05, message="health SERVING")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
