"""Operating the dashboard: demo users from the command line, production settings, servers without the extension."""

import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from dashboard import backend as backend_client
from dashboard.access import is_editor
from dashboard.backend import Backend
from dashboard.models import BackendAccount
from tests.dashboard.fixtures import FOLDER, backend_calls, older_server

ROOT = Path(__file__).resolve().parents[2]


def test_createdashboarduser_creates_and_updates_a_user_with_role_and_token(db):
    call_command("createdashboarduser", "ann", "--role", "viewer", "--password", "pw-123456", "--token", "t1")
    user = User.objects.get(username="ann")
    assert user.check_password("pw-123456") and not is_editor(user)
    call_command("createdashboarduser", "ann", "--role", "editor", "--password", "pw-654321", "--token", "t2")
    user = User.objects.get(username="ann")
    assert is_editor(user) and list(user.groups.values_list("name", flat=True)) == ["editor"]
    assert BackendAccount.objects.get(user=user).token == "t2"


def test_deploy_check_is_clean_with_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "dashboard.settings_production",
        "DJANGO_SECRET_KEY": "k" * 20 + "a-long-random-production-secret-0123456789",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


class _Unimplemented(grpc.RpcError):
    def code(self):
        return grpc.StatusCode.UNIMPLEMENTED

    def details(self):
        return "Method not found!"


def _without_extension(monkeypatch):
    """The client as it is against a server that only speaks the public API."""
    original = Backend.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)

        class Missing:
            def __getattr__(self, name):
                def call(*a, **k):
                    raise _Unimplemented()

                return call

        self._extension = Missing()

    monkeypatch.setattr(Backend, "__init__", init)
    backend_client.forget_extension_state()


def test_families_fall_back_to_the_public_list(editor_client, seed, monkeypatch):
    seed.image("a-1", family="web-app")
    seed.image("a-2", family="web-app")
    _without_extension(monkeypatch)
    body = editor_client.get(f"/f/{FOLDER}/families/").content.decode()
    assert "no family index" in body and "web-app" in body and "a-2" in body


def test_tray_falls_back_to_one_get_per_operation(editor_client, seed, monkeypatch):
    _without_extension(monkeypatch)
    response = editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "disk_id", "source_id": seed.disk, "name": "web-1", "min_disk_size_1": "GiB"},
    )
    assert response.status_code == 302
    image_id = response["Location"].split("/")[2]
    api = seed.backend.editor
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2

    operations = api.call(
        api.images.ListOperations, image_service_pb2.ListImageOperationsRequest(image_id=image_id)
    )
    seed.backend.wait_operation(operations.operations[0].id)
    polled = editor_client.get("/operations/", HTTP_HX_REQUEST="true")
    assert polled.status_code == 286 and b"done" in polled.content


def _latest_marked(body: str) -> set[str]:
    return {
        row.split("<code>", 1)[1].split("<", 1)[0] for row in body.split("<tr>")[1:] if "latest-mark" in row
    }


@pytest.mark.parametrize(
    ("with_extension", "first_render", "next_render"),
    [
        # From before ListImages: the page from List, the markers from the family summary.
        (
            True,
            {
                "ImageExtensionService/ListImages": 1,
                "ImageService/List": 1,
                "ImageExtensionService/ListFamilies": 1,
            },
            {"ImageService/List": 1, "ImageExtensionService/ListFamilies": 1},
        ),
        # From before the extension: the markers from a List of the page's families' READY images.
        (
            False,
            {
                "ImageExtensionService/ListImages": 1,
                "ImageService/List": 2,
                "ImageExtensionService/ListFamilies": 1,
            },
            {"ImageService/List": 2},
        ),
    ],
    ids=["before-list-images", "without-extension"],
)
def test_an_older_server_gets_the_public_list_and_the_same_markers(
    editor_client, seed, settings, with_extension, first_render, next_render
):
    seed.image("web-1", family="web-app")
    newer = seed.image("web-2", family="web-app")
    only = seed.image("db-1", family="db-main")
    seed.image("plain-1")
    with older_server(settings, with_extension=with_extension):
        with backend_calls() as calls:
            body = editor_client.get(f"/f/{FOLDER}/images/").content.decode()
        assert calls == first_render
        assert _latest_marked(body) == {newer, only} and body.count('name="ids"') == 4
        # UNIMPLEMENTED is remembered (per method): the next render goes straight to the fallback.
        with backend_calls() as calls:
            body = editor_client.get(f"/f/{FOLDER}/images/", HTTP_HX_REQUEST="true").content.decode()
        assert calls == next_render
        assert _latest_marked(body) == {newer, only}
