"""`grpcserver --metrics-port` / IMAGESERVICE_METRICS_PORT, run as the real command: /metrics on
loopback only, and no HTTP listener at all when neither is given."""

from __future__ import annotations

import socket

import psutil
import pytest

from tests.processes import free_port
from tests.scrape import Scrape


def listening_ports(pid: int) -> set[int]:
    return {
        conn.laddr.port
        for conn in psutil.Process(pid).net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN
    }


def assert_metrics_on_loopback_only(server, metrics_port: int) -> None:
    scrape = Scrape(f"http://127.0.0.1:{metrics_port}/metrics")
    assert "imageservice_health_serving" in scrape.names()
    assert scrape.value("imageservice_health_serving") == 1
    # Bound to 127.0.0.1 itself, not to every address: another loopback address is refused.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", metrics_port), timeout=5).close()
    assert listening_ports(server.process.pid) == {server.port, metrics_port}


@pytest.mark.slow
def test_metrics_port_flag_serves_metrics_on_loopback(servers):
    metrics_port = free_port()
    server = servers(free_port(), args=("--metrics-port", str(metrics_port)))
    server.wait_serving()
    assert_metrics_on_loopback_only(server, metrics_port)


@pytest.mark.slow
def test_metrics_port_setting_serves_metrics_on_loopback(servers):
    metrics_port = free_port()
    server = servers(free_port(), env={"IMAGESERVICE_METRICS_PORT": str(metrics_port)})
    server.wait_serving()
    assert_metrics_on_loopback_only(server, metrics_port)


@pytest.mark.slow
def test_no_metrics_port_means_no_http_listener(servers, monkeypatch):
    monkeypatch.delenv("IMAGESERVICE_METRICS_PORT", raising=False)
    server = servers(free_port())
    server.wait_serving()
    assert listening_ports(server.process.pid) == {server.port}
    assert "metrics on" not in server.output()
