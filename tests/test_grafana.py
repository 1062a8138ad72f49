"""The Grafana dashboard uses only metric names the two processes really export."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.test import Client

from dashboard.backend import Backend as DashboardBackend
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.conftest import running_backend
from tests.scrape import Scrape

DASHBOARD_JSON = Path(__file__).resolve().parent.parent / "images" / "grpc" / "grafana" / "imageservice.json"
# PromQL words that are not metric names.
_PROMQL = {
    "sum", "by", "rate", "increase", "max", "min", "histogram_quantile", "le", "without", "avg",
    "method", "code", "kind", "outcome", "reason", "phase", "shape", "view", "status", "rpc", "instance",
}  # fmt: skip
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD_JSON.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def metric_names(expression: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"|\[[^\]]*\]|\{[^}]*\}', " ", expression)
    return {name for name in _NAME.findall(without_strings) if name not in _PROMQL}


def test_every_metric_in_the_grafana_dashboard_exists_in_a_scrape_of_both_processes(
    transactional_db, data_dir, settings
):
    settings.DASHBOARD_METRICS_ENABLED = True
    with running_backend(workers=1, metrics_port=0) as backend:
        settings.IMAGESERVICE_BACKEND_ADDRESS = backend.address
        backend.editor.call(backend.editor.images.List, isv.ListImagesRequest(folder_id="folder-grafana"))
        exported = Scrape(f"http://127.0.0.1:{backend.server.metrics_port}/metrics").names()
        Client().get("/healthz")
        DashboardBackend(backend.editor_token).list_images("folder-grafana")
        response = Client().get("/metrics")
        assert response.status_code == 200
        exported |= Scrape(text=response.content.decode()).names()
    used = set().union(*(metric_names(expression) for expression in expressions()))
    assert len(used) >= 20
    assert used <= exported, sorted(used - exported)
    # Every family of either process is on the dashboard.
    ours = {name for name in exported if name.startswith(("imageservice_", "dashboard_"))}
    families = {re.sub(r"_(bucket|count|sum|created)$", "", name) for name in ours}
    shown = {re.sub(r"_(bucket|count|sum)$", "", name) for name in used}
    assert families <= shown | {name.removesuffix("_total") for name in shown}, sorted(families - shown)
