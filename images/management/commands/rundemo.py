"""python manage.py rundemo: migrate, seed, start backend + dashboard, print the URL and demo logins."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from images.domain.auth import create_token
from images.domain.demo import DEMO_FOLDER

DEMO_USERS = (("editor", "editor"), ("viewer", "viewer"))
BACKEND_SETTINGS = "images.settings"
DASHBOARD_SETTINGS = "dashboard.settings"


class Command(BaseCommand):
    help = "Start the whole system for a demo: backend (gRPC) and dashboard (HTTP) on embedded SQLite."

    def add_arguments(self, parser):
        parser.add_argument("--http-port", type=int, default=int(os.environ.get("DASHBOARD_PORT", "8000")))
        parser.add_argument("--grpc-port", type=int, default=settings.IMAGESERVICE_GRPC_PORT)

    def handle(self, *args, http_port, grpc_port, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, IMAGESERVICE_BACKEND_ADDRESS=f"127.0.0.1:{grpc_port}")
        backend_env = dict(env, DJANGO_SETTINGS_MODULE=BACKEND_SETTINGS)
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
        time.sleep(1.5)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"ImageService dashboard: http://127.0.0.1:{http_port}/"))
        self.stdout.write(f"gRPC backend: 127.0.0.1:{grpc_port}   demo folder: {DEMO_FOLDER}")
        for username, password, role in logins:
            self.stdout.write(f"  login: {username} / {password}   ({role})")
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
        try:
            while backend.poll() is None and dashboard.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in (dashboard, backend):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in (dashboard, backend):
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
