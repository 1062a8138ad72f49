"""python manage.py rundemo: migrate, seed, start a demo object store, backend and dashboard, print the
URL, demo logins and importable URIs once everything answers; stop it all on Ctrl+C, SIGTERM or SIGHUP."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request

import grpc
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from images.domain import demo_store
from images.domain.auth import create_token
from images.domain.demo import DEMO_FOLDER

DEMO_USERS = (("editor", "editor"), ("viewer", "viewer"))
BACKEND_SETTINGS = "images.settings"
DASHBOARD_SETTINGS = "dashboard.settings"
START_TIMEOUT = 60.0


class _Stop(Exception):
    """SIGTERM or SIGHUP: leave the wait loop and stop the children, as Ctrl+C does."""


def _stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


class Command(BaseCommand):
    help = "Start the whole system for a demo: backend (gRPC) and dashboard (HTTP) on embedded SQLite."

    def add_arguments(self, parser):
        parser.add_argument("--http-port", type=int, default=int(os.environ.get("DASHBOARD_PORT", "8000")))
        parser.add_argument("--grpc-port", type=int, default=settings.IMAGESERVICE_GRPC_PORT)
        parser.add_argument(
            "--store-port",
            type=int,
            default=int(os.environ.get("DEMO_STORE_PORT", "0")),
            help="port of the demo object store on 127.0.0.1 (default: any free port)",
        )

    def handle(self, *args, http_port, grpc_port, store_port, **options):
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _stop)
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        store = demo_store.start(settings.VAR_DIR / "demo-store", port=store_port)
        try:
            self._run(http_port, grpc_port, store)
        except _Stop:
            pass
        finally:
            store.stop()

    def _run(self, http_port: int, grpc_port: int, store: demo_store.DemoStore) -> None:
        env = dict(os.environ, IMAGESERVICE_BACKEND_ADDRESS=f"127.0.0.1:{grpc_port}")
        # The backend may fetch from the demo store: its address joins the import allowlist, over http.
        allowed = [*settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS, store.authority]
        backend_env = dict(
            env,
            DJANGO_SETTINGS_MODULE=BACKEND_SETTINGS,
            IMAGESERVICE_IMPORT_ALLOWED_HOSTS=",".join(allowed),
            IMAGESERVICE_IMPORT_ALLOW_HTTP="true",
        )
        # The dashboard's commands run in its own process, with its own settings: this app never
        # imports the dashboard.
        dashboard_env = dict(env, DJANGO_SETTINGS_MODULE=DASHBOARD_SETTINGS)
        python = sys.executable

        def dashboard_command(*arguments: str) -> None:
            subprocess.run([python, "manage.py", *arguments], env=dashboard_env, check=True)

        call_command("migrate", verbosity=0, interactive=False)
        dashboard_command("migrate", "--verbosity", "0")
        call_command("seeddemo", verbosity=0)
        dashboard_command("collectstatic", "--verbosity", "0", "--noinput")
        logins = []
        for username, role in DEMO_USERS:
            password = f"{username}-{secrets.token_hex(4)}"
            token = create_token(name=f"demo-{username}", role=role)
            try:
                dashboard_command(
                    "createdashboarduser", username, "--role", role, "--password", password, "--token", token
                )
            except subprocess.CalledProcessError as error:
                self.stderr.write(f"could not create dashboard user {username}: {error}")
                continue
            logins.append((username, password, role))
        backend = dashboard = None
        try:
            backend, dashboard = self._start(python, grpc_port, http_port, backend_env, dashboard_env)
            self._wait_ready(backend, dashboard, grpc_port, http_port)
            self._banner(http_port, grpc_port, logins, store)
            while backend.poll() is None and dashboard.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                signal.signal(signum, signal.SIG_IGN)  # a second signal must not cut the cleanup short
            children = [p for p in (dashboard, backend) if p is not None]
            for process in children:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in children:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def _start(self, python, grpc_port, http_port, backend_env, dashboard_env):
        backend = subprocess.Popen(
            [python, "manage.py", "grpcserver", "--host", "127.0.0.1", "--port", str(grpc_port)],
            env=backend_env,
        )
        dashboard = subprocess.Popen(
            [
                python, "-m", "gunicorn", "dashboard.wsgi", "--bind", f"127.0.0.1:{http_port}",
                "--workers", "2", "-c", "python:dashboard.gunicorn_conf", "--access-logfile", "-",
            ],
            env=dashboard_env,
        )  # fmt: skip
        return backend, dashboard

    def _wait_ready(self, backend, dashboard, grpc_port: int, http_port: int) -> None:
        """Until the gRPC port and the dashboard's health check both answer (or a child exits)."""
        deadline = time.monotonic() + START_TIMEOUT
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            ready = grpc.channel_ready_future(channel)
            while not ready.done():
                if backend.poll() is not None or time.monotonic() > deadline:
                    raise CommandError("the gRPC backend did not start")
                time.sleep(0.1)
        while True:
            if dashboard.poll() is not None or time.monotonic() > deadline:
                raise CommandError("the dashboard did not start")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)

    def _banner(self, http_port, grpc_port, logins, store) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"ImageService dashboard: http://127.0.0.1:{http_port}/"))
        self.stdout.write(f"gRPC backend: 127.0.0.1:{grpc_port}   demo folder: {DEMO_FOLDER}")
        for username, password, role in logins:
            self.stdout.write(f"  login: {username} / {password}   ({role})")
        self.stdout.write("Demo URIs to import from (Create image → URI):")
        for shown, uri in store.uris():
            self.stdout.write(f"  {uri}   ({shown})")
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
