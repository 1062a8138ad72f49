"""The signed-in person is read without queries once cached, and every change to them still applies at once here."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from dashboard.models import BackendAccount
from tests.dashboard.fixtures import FOLDER

LIST = f"/f/{FOLDER}/images/"


def test_a_page_costs_no_query_for_session_user_role_or_token(editor_client, seed, django_assert_num_queries):
    seed.image("web-1")
    assert editor_client.get(LIST).status_code == 200
    with django_assert_num_queries(0):
        response = editor_client.get(LIST)
    assert response.status_code == 200 and b"web-1" in response.content


def test_a_role_change_applies_on_the_next_request(viewer, viewer_client, seed):
    assert b"Create image" not in viewer_client.get(LIST).content
    viewer.groups.add(Group.objects.get_or_create(name="editor")[0])
    assert b"Create image" in viewer_client.get(LIST).content


def test_a_new_token_applies_on_the_next_request(editor, editor_client, seed):
    assert editor_client.get(LIST).status_code == 200
    account = BackendAccount.objects.get(user=editor)
    account.token = "not-a-token-the-backend-knows"
    account.save()
    response = editor_client.get(LIST)
    assert response.status_code == 401 and b"did not accept your account" in response.content


def test_signing_out_ends_the_session_at_once_for_every_copy_of_its_cookie(editor_client, seed):
    assert editor_client.get(LIST).status_code == 200
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = editor_client.cookies[settings.SESSION_COOKIE_NAME].value
    assert stolen.get(LIST).status_code == 200
    assert editor_client.post("/logout/").status_code == 302
    assert stolen.get(LIST).status_code == 302
