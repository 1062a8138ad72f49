"""python manage.py grpcserver [--host H] [--port P] [--workers N]: the backend process."""

import signal
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from images import telemetry
from images.grpc.server import build_server, floor_handler
from images.store.process_lock import DatabaseInUse, lock_sqlite_database


class Command(BaseCommand):
    help = (
        "Serve ImageService, OperationService, health and reflection over gRPC, with the operations worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.IMAGESERVICE_GRPC_HOST)
        parser.add_argument("--port", type=int, default=settings.IMAGESERVICE_GRPC_PORT)
        parser.add_argument("--workers", type=int, default=settings.IMAGESERVICE_GRPC_WORKERS)
        parser.add_argument("--rpc-threads", type=int, default=16)
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=settings.IMAGESERVICE_METRICS_PORT,
            help="serve Prometheus metrics over HTTP at /metrics on this port (IMAGESERVICE_METRICS_HOST, "
            "loopback by default); off when not given",
        )
        parser.add_argument(
            "--bench-floor",
            action="store_true",
            help="also serve an empty method through the same interceptors, as the benchmarks' floor",
        )

    def handle(self, *args, host, port, workers, rpc_threads, bench_floor, metrics_port, **options):
        try:
            lock_sqlite_database()  # before anything reads or recovers the database
        except DatabaseInUse as error:
            raise CommandError(str(error)) from None
        # Imports keep threads busy in Python; a shorter GIL switch interval (default 5 ms) keeps
        # metadata calls answered promptly while they run.
        sys.setswitchinterval(0.0005)
        telemetry.setup_tracing("imageservice-backend")
        handlers = (floor_handler(),) if bench_floor else ()
        server = build_server(
            host=host,
            port=port,
            workers=workers,
            rpc_threads=rpc_threads,
            generic_handlers=handlers,
            metrics_port=metrics_port,
        )
        stopping = threading.Event()

        def on_signal(signum, frame):
            stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        server.start()
        self.stdout.write(f"grpcserver listening on {server.address}", ending="\n")
        if server.metrics_port is not None:
            self.stdout.write(f"grpcserver metrics on port {server.metrics_port}", ending="\n")
        self.stdout.flush()
        stopping.wait()
        self.stdout.write("grpcserver shutting down")
        server.stop(grace=10)
