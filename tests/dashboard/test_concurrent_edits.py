"""Two tabs editing one image: the later save merges with the earlier one instead of reverting it."""

import pytest

from dashboard import tray
from dashboard.backend import Backend
from tests.dashboard.test_changes import _session_request, edit_form, get_image

GiB = 1024**3


@pytest.fixture
def sent_masks(monkeypatch) -> list[list[str]]:
    """The update_mask of each Update the dashboard sends (the real call still goes through)."""
    masks = []
    original = Backend.update_image

    def spy(self, image_id, changes, **kwargs):
        masks.append(sorted(changes))
        return original(self, image_id, changes, **kwargs)

    monkeypatch.setattr(Backend, "update_image", spy)
    return masks


def _save(client, backend, url: str, data: dict) -> None:
    response = client.post(f"{url}/save", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    backend.wait_operation(tray.entries(_session_request(client))[0].id)


def test_a_later_edit_keeps_what_another_tab_saved_and_sends_only_its_own_change(
    editor_client, seed, sent_masks
):
    image_id = seed.image("web-1", description="First", labels={"team": "web"})
    url = f"/images/{image_id}/edit"
    tab_a = editor_client.get(url).content.decode()
    tab_b = editor_client.get(url).content.decode()

    a_data = edit_form(
        tab_a,
        description="Second",
        label_key=["team", "env"],
        label_value=["web", "prod"],
        min_disk_size_0="16",
        min_disk_size_1="GiB",
    )
    _save(editor_client, seed.backend, url, a_data)

    review = editor_client.post(url, edit_form(tab_b, name="web-2"))
    assert review.status_code == 409
    body = review.content.decode()
    assert "changed since you opened the form" in body
    # The form now carries A's values for every field B did not touch, and B's name.
    form = review.context["form"]
    assert form.cleaned_data["description"] == "Second"
    assert form.cleaned_data["labels"] == {"team": "web", "env": "prod"}
    assert form.cleaned_data["min_disk_size"] == 16 * GiB
    assert form.cleaned_data["name"] == "web-2"
    assert not form.errors
    assert [(c.label, c.new) for c in review.context["changes"]] == [("Name", "web-2")]
    assert "No changes yet" not in body

    again = editor_client.post(url, edit_form(body))
    assert again.status_code == 200 and again.context["step"] == "review"
    assert [c.label for c in again.context["changes"]] == ["Name"]
    _save(editor_client, seed.backend, url, edit_form(body))

    assert sent_masks[-1] == ["name"]
    image = get_image(seed.backend, image_id)
    assert image.name == "web-2" and image.description == "Second"
    assert dict(image.labels) == {"team": "web", "env": "prod"} and image.min_disk_size == 16 * GiB


def test_a_stale_save_merges_too_instead_of_reverting(editor_client, seed, sent_masks):
    image_id = seed.image("web-1", description="First")
    url = f"/images/{image_id}/edit"
    tab_a = editor_client.get(url).content.decode()
    tab_b = editor_client.get(url).content.decode()
    _save(editor_client, seed.backend, url, edit_form(tab_a, description="Second"))

    # B reviewed before A saved and now presses Save: nothing is saved, the form is rebased.
    response = editor_client.post(f"{url}/save", edit_form(tab_b, name="web-2"))
    assert response.status_code == 409
    assert response.context["form"].cleaned_data["description"] == "Second"
    assert get_image(seed.backend, image_id).description == "Second"
    assert sent_masks == [["description"]]


def test_fields_both_tabs_changed_are_conflicts_for_the_later_one_to_settle(editor_client, seed, sent_masks):
    image_id = seed.image("web-1", description="First", labels={"env": "test", "team": "web"})
    url = f"/images/{image_id}/edit"
    tab_a = editor_client.get(url).content.decode()
    tab_b = editor_client.get(url).content.decode()
    a_data = edit_form(tab_a, description="From A", label_key=["env", "team"], label_value=["prod", "core"])
    _save(editor_client, seed.backend, url, a_data)

    b_data = edit_form(tab_b, description="From B", label_key=["env", "team"], label_value=["dev", "web"])
    review = editor_client.post(url, b_data)
    assert review.status_code == 409
    form = review.context["form"]
    assert "From A" in form.errors["description"][0] and "From B" in form.errors["description"][0]
    # env: both changed (conflict, B's value kept for B to decide); team: only A changed (A's value).
    assert len(form.errors["labels"]) == 1 and "Label env" in form.errors["labels"][0]
    assert form.data["description"] == "From B"
    assert dict(zip(form.data.getlist("label_key"), form.data.getlist("label_value"), strict=True)) == {
        "env": "dev",
        "team": "core",
    }

    # B keeps their values: the next review is against the image as it is now.
    settled = edit_form(review.content.decode())
    assert editor_client.post(url, settled).context["step"] == "review"
    _save(editor_client, seed.backend, url, settled)
    assert sent_masks[-1] == ["description", "labels"]
    image = get_image(seed.backend, image_id)
    assert image.description == "From B" and dict(image.labels) == {"env": "dev", "team": "core"}
