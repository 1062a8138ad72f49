"""The dashboard's /metrics: off by default, a bearer token or loopback only, and what it counts."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.dashboard.fixtures import PASSWORD
from tests.scrape import Scrape

TOKEN = "metrics-token-0123456789abcdef"
GET = "/yandex.cloud.compute.v1.ImageService/Get"


@pytest.fixture
def metrics_on(settings):
    settings.DASHBOARD_METRICS_ENABLED = True
    settings.DASHBOARD_METRICS_TOKEN = TOKEN
    return settings


def scrape(client: Client | None = None) -> Scrape:
    response = (client or Client()).get("/metrics")
    assert response.status_code == 200, response.status_code
    return Scrape(text=response.content.decode())


def test_metrics_are_off_by_default(db):
    assert Client().get("/metrics").status_code == 404


@pytest.mark.parametrize(
    ("address", "authorization", "status"),
    [
        ("203.0.113.9", "", 401),
        ("203.0.113.9", "Bearer wrong-token", 401),
        ("203.0.113.9", f"Basic {TOKEN}", 401),
        ("203.0.113.9", f"Bearer {TOKEN}", 200),
        ("127.0.0.1", "", 200),
        ("::1", "", 200),
    ],
)
def test_metrics_need_the_bearer_token_unless_asked_from_loopback(
    db, metrics_on, address, authorization, status
):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client(REMOTE_ADDR=address).get("/metrics", **headers)
    assert response.status_code == status
    if status == 200:
        assert b"dashboard_http_requests_total" in response.content


def test_a_remote_caller_gets_nothing_when_no_token_is_set(db, metrics_on):
    metrics_on.DASHBOARD_METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_views_and_backend_calls_count_by_name_status_and_code(metrics_on, editor, seed):
    image_id = seed.image("counted")
    client = Client()  # built after the setting, so the metrics middleware is installed
    client.force_login(editor)
    before = scrape()
    assert client.get(f"/images/{image_id}/").status_code == 200
    assert client.get("/images/fd8nosuchimage0000000/").status_code == 404
    after = scrape()

    def moved(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("dashboard_http_requests_total", view="image-detail", method="GET", status="200") == 1
    assert moved("dashboard_http_requests_total", view="image-detail", method="GET", status="404") == 1
    assert moved("dashboard_http_request_duration_seconds_count", view="image-detail", method="GET") == 2
    assert moved("dashboard_backend_call_duration_seconds_count", rpc=GET, code="OK") >= 1
    assert moved("dashboard_backend_call_duration_seconds_count", rpc=GET, code="NOT_FOUND") == 1


def test_failed_and_throttled_sign_ins_count(metrics_on, editor):
    metrics_on.DASHBOARD_LOGIN_MAX_FAILURES = 2
    before = scrape()
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": editor.username, "password": PASSWORD + "x"})
    after = scrape()
    assert after.value("dashboard_login_failures_total") - before.value("dashboard_login_failures_total") == 2
    assert (
        after.value("dashboard_login_throttled_total") - before.value("dashboard_login_throttled_total") == 1
    )
