from tests.dashboard.conftest import FOLDER


def test_list_shows_seeded_images(editor_client, seed):
    seed.image("web-1", family="web-app", labels={"env": "prod"})
    response = editor_client.get(f"/f/{FOLDER}/images/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "web-1" in body
    assert "web-app" in body
