"""The unreachable banner's probe: backs off 1, 2, 4 ... 30 s while the backend is down, and
removes the banner once it answers."""

from tests.dashboard.test_outage import outage  # noqa: F401 (a fixture)

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_banner_for_an_unreachable_backend_carries_a_probe(viewer_client, outage):  # noqa: F811
    outage.stop()
    response = viewer_client.get("/f/test-folder/images/?sort=name", **HTMX)
    assert response.status_code == 503
    body = response.content.decode()
    assert "data-backend-alert" in body and 'hx-get="/backend/probe?after=1"' in body


def test_the_probe_backs_off_while_the_backend_is_down(viewer_client, outage):  # noqa: F811
    outage.stop()
    delays = []
    after = 1
    for _ in range(7):
        response = viewer_client.get(f"/backend/probe?after={after}", **HTMX)
        assert response.status_code == 200
        after = int(response.content.decode().split("after=")[1].split('"')[0])
        delays.append(after)
    assert delays == [2, 4, 8, 16, 30, 30, 30]


def test_the_probe_removes_the_banner_when_the_backend_answers(viewer_client):
    response = viewer_client.get("/backend/probe?after=4", **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Retarget"] == "closest [data-backend-alert]"
    assert response["HX-Reswap"] == "outerHTML"
