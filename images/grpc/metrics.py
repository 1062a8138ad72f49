"""The backend's metrics endpoint: per-RPC metrics, health, and the queue read from the database.

`grpcserver --metrics-port P` (or IMAGESERVICE_METRICS_PORT) serves every metric of the process,
these and images.metrics, over HTTP at /metrics. The queue gauges are counted in the database at
scrape time, so every replica sharing it reports the same queue.
"""

from __future__ import annotations

import logging
from wsgiref.simple_server import WSGIServer

from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from images.store.models import Operation, OperationState
from images.telemetry import LATENCY_BUCKETS

log = logging.getLogger(__name__)

RPC_REQUESTS = Counter(
    "imageservice_rpc_requests",
    "API calls answered, by full method name and status code.",
    ["method", "code"],
)
RPC_SECONDS = Histogram(
    "imageservice_rpc_duration_seconds",
    "Time to answer an API call (auth, service, encoding), by method and status code.",
    ["method", "code"],
    buckets=LATENCY_BUCKETS,
)
HEALTH_SERVING = Gauge("imageservice_health_serving", "1 while the server reports SERVING, else 0.")


class QueueCollector(Collector):
    """Operations queued and running, and the age of the oldest queued one: one query per scrape."""

    def collect(self):
        queued = GaugeMetricFamily(
            "imageservice_operations_queued", "Operations waiting for a worker (all replicas)."
        )
        running = GaugeMetricFamily(
            "imageservice_operations_running", "Operations a worker is running (all replicas)."
        )
        oldest = GaugeMetricFamily(
            "imageservice_operations_oldest_queued_age_seconds",
            "Age of the oldest operation waiting for a worker; 0 when none waits.",
        )
        try:
            rows = {
                row["state"]: row
                for row in Operation.objects.filter(
                    state__in=[OperationState.PENDING, OperationState.RUNNING]
                )
                .values("state")
                .annotate(count=Count("id"), oldest=Min("created_at"))
            }
        except Exception:
            log.exception("reading the operation queue for metrics failed")
            return
        finally:
            # The scrape thread is not a request thread: nothing else would close its session.
            connection.close()
        pending = rows.get(OperationState.PENDING)
        queued.add_metric([], pending["count"] if pending else 0)
        running.add_metric([], rows[OperationState.RUNNING]["count"] if OperationState.RUNNING in rows else 0)
        age = (timezone.now() - pending["oldest"]).total_seconds() if pending else 0.0
        oldest.add_metric([], max(0.0, age))
        yield from (queued, running, oldest)


_queue_collector = QueueCollector()


def serve(host: str, port: int) -> WSGIServer:
    """Starts the /metrics HTTP server on host:port (0: any free port) in a daemon thread."""
    try:
        REGISTRY.register(_queue_collector)
    except ValueError:  # a second server in this process (tests): the one collector serves both
        pass
    server, _thread = start_http_server(port, addr=host)
    return server
