"""Create, edit and delete through the dashboard, against the real backend."""

import re

from dashboard import tray
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
from tests.dashboard.fixtures import FOLDER

CREATE = f"/f/{FOLDER}/images/new"


def create_form(**fields) -> dict:
    data = {
        "source_kind": "disk_id",
        "source_id": "",
        "uri": "",
        "name": "",
        "description": "",
        "family": "",
        "label_key": [],
        "label_value": [],
        "min_disk_size_0": "",
        "min_disk_size_1": "GiB",
        "product_ids": "",
        "os": "",
        "idempotency_key": "",
    }
    data.update(fields)
    return data


def get_image(backend, image_id):
    api = backend.editor
    return api.call(api.images.Get, image_service_pb2.GetImageRequest(image_id=image_id))


def test_create_from_disk_redirects_to_the_image_and_puts_the_operation_in_the_tray(editor_client, seed):
    data = create_form(
        source_id=seed.disk,
        name="web-1",
        family="web-app",
        label_key=["env", "team"],
        label_value=["prod", "web"],
        min_disk_size_0="10",
        min_disk_size_1="GiB",
    )
    response = editor_client.post(CREATE, data)
    assert response.status_code == 302
    image_id = response["Location"].split("/")[2]
    entries = tray.entries(_session_request(editor_client))
    assert entries[0].image_id == image_id and entries[0].kind == "create"
    seed.backend.wait_operation(entries[0].id)
    image = get_image(seed.backend, image_id)
    assert image.name == "web-1" and dict(image.labels) == {"env": "prod", "team": "web"}
    assert image.min_disk_size == 10 * 1024**3
    assert image.product_ids == ["p1"]


class _session_request:
    def __init__(self, client):
        self.session = client.session


def test_create_rejects_bad_fields_early_with_the_rules_messages(editor_client, seed, monkeypatch):
    data = create_form(
        source_id=seed.disk, name="Bad_Name_", family="x", label_key=["Env"], label_value=["v"]
    )
    response = editor_client.post(CREATE, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) >= {"name", "family", "labels"}
    assert "lowercase letter" in errors["name"][0]


def test_backend_field_violations_appear_next_to_their_fields(editor_client, seed):
    # 5 MiB passes the early range check but is below the disk's size: only the backend knows.
    data = create_form(source_id=seed.disk, name="small", min_disk_size_0="5", min_disk_size_1="MiB")
    response = editor_client.post(CREATE, data)
    assert response.status_code == 400
    assert response.context["form"].errors["min_disk_size"]
    body = response.content.decode()
    assert re.search(r'id="field-min_disk_size".*?field-error', body, re.S)


def test_name_collision_appears_on_the_name_field(editor_client, seed):
    seed.image("taken")
    response = editor_client.post(CREATE, create_form(source_id=seed.disk, name="taken"))
    assert response.status_code == 409
    assert "already exists" in response.context["form"].errors["name"][0]


def test_missing_source_is_reported_on_the_source_field(editor_client, seed):
    response = editor_client.post(CREATE, create_form(source_id="nosuchdisk", name="x1"))
    assert response.status_code == 400
    assert response.context["form"].errors["source_id"]


def test_uri_is_never_sent_back_to_the_page(editor_client, seed):
    uri = "https://example.invalid/disk.qcow2?X-Amz-Signature=topsecret"
    response = editor_client.post(CREATE, create_form(source_kind="uri", uri=uri, name="Bad_"))
    assert response.status_code == 400
    assert b"topsecret" not in response.content


def test_add_label_row_without_javascript_keeps_the_form(editor_client, seed):
    data = create_form(source_id=seed.disk, name="n1", label_key=["env"], label_value=["prod"], add_label="1")
    response = editor_client.post(CREATE, data)
    assert response.status_code == 200
    assert response.content.decode().count('name="label_key"') == 4  # env, two empty, and the template


def test_new_version_prefills_from_an_image(editor_client, seed):
    image_id = seed.image("base", family="web-app", labels={"env": "prod"}, description="Base")
    body = editor_client.get(CREATE, {"from": image_id}).content.decode()
    assert 'value="web-app"' in body and 'value="env"' in body and "Base</textarea>" in body


def edit_form(page_body: str, **changes) -> dict:
    """The fields of an opened edit form, as the browser would post them, with some changed."""
    data = {}
    for name in ("name", "snapshot", "idempotency_key", "min_disk_size_0"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page_body) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', page_body
        )
        data[name] = match.group(1).replace("&quot;", '"').replace("&amp;", "&") if match else ""
    description = re.search(r'name="description"[^>]*>(.*?)</textarea>', page_body, re.S)
    data["description"] = description.group(1).strip() if description else ""
    data["min_disk_size_1"] = re.search(r'<option value="(\w+)" selected>', page_body).group(1)
    data["label_key"] = re.findall(r'name="label_key" value="([^"]*)"', page_body)
    data["label_value"] = re.findall(r'name="label_value" value="([^"]*)"', page_body)
    data.update(changes)
    return data


def test_edit_reviews_then_saves_only_the_changed_fields(editor_client, seed, monkeypatch):
    image_id = seed.image("web-1", labels={"env": "prod"}, description="First")
    url = f"/images/{image_id}/edit"
    opened = editor_client.get(url).content.decode()
    data = edit_form(opened, label_key=["env", "team"], label_value=["test", "web"])
    review = editor_client.post(url, data)
    assert review.status_code == 200 and review.context["step"] == "review"
    kinds = {(c.label, c.kind) for c in review.context["changes"]}
    assert kinds == {("Label env", "changed"), ("Label team", "added")}

    from dashboard.backend import Backend

    sent = {}
    original = Backend.update_image

    def spy(self, image_id, changes, **kwargs):
        sent.update(changes)
        return original(self, image_id, changes, **kwargs)

    monkeypatch.setattr(Backend, "update_image", spy)
    saved = editor_client.post(f"{url}/save", data)
    assert saved.status_code == 302
    assert list(sent) == ["labels"]
    operation = tray.entries(_session_request(editor_client))[0]
    seed.backend.wait_operation(operation.id)
    image = get_image(seed.backend, image_id)
    assert dict(image.labels) == {"env": "test", "team": "web"} and image.description == "First"


def test_edit_says_so_when_the_image_changed_since_the_form_opened(editor_client, seed):
    image_id = seed.image("web-1", description="First")
    url = f"/images/{image_id}/edit"
    opened = editor_client.get(url).content.decode()
    api = seed.backend.editor
    from google.protobuf import field_mask_pb2

    operation = api.call(
        api.images.Update,
        image_service_pb2.UpdateImageRequest(
            image_id=image_id,
            description="Changed elsewhere",
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        ),
    )
    seed.backend.wait_operation(operation.id)
    response = editor_client.post(f"{url}/save", edit_form(opened, name="web-2"))
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed since you opened the form" in body and "Changed elsewhere" in body
    assert get_image(seed.backend, image_id).name == "web-1"


def test_edit_with_no_changes_saves_nothing(editor_client, seed):
    image_id = seed.image("web-1")
    url = f"/images/{image_id}/edit"
    opened = editor_client.get(url).content.decode()
    response = editor_client.post(f"{url}/save", edit_form(opened))
    assert response.status_code == 200 and "Nothing to save" in response.content.decode()


def test_delete_confirmation_names_the_image_and_the_next_latest(editor_client, seed):
    older = seed.image("web-1", family="web-app")
    newest = seed.image("web-2", family="web-app")
    body = editor_client.get(f"/images/{newest}/delete").content.decode()
    assert "Delete image “web-2”?" in body
    assert "latest image of family" in body and older in body
    refused = editor_client.post(f"/images/{newest}/delete", {"idempotency_key": ""})
    assert refused.status_code == 400 and "Type the folder" in refused.content.decode()
    assert get_image(seed.backend, newest).name == "web-2"
    response = editor_client.post(f"/images/{newest}/delete", {"idempotency_key": "", "confirm": FOLDER})
    assert response.status_code == 302 and response["Location"] == f"/f/{FOLDER}/images/"
    operation = tray.entries(_session_request(editor_client))[0]
    assert operation.kind == "delete" and operation.image_name == "web-2"


def test_bulk_delete_confirms_then_reports_each_image(editor_client, seed):
    first, second = seed.image("a-1"), seed.image("a-2")
    url = f"/f/{FOLDER}/images/bulk-delete"
    confirm = editor_client.post(url, {"ids": [first, second, "missing-id"]}).content.decode()
    assert "Delete 3 images?" in confirm and "a-1" in confirm and "Already gone" in confirm
    result = editor_client.post(url, {"ids": [first, second, "missing-id"], "step": "delete"})
    rows = result.context["rows"]
    assert [row["ok"] for row in rows] == [True, True, False]
    assert "not found" in rows[2]["message"]


def test_bulk_delete_shows_family_impact_and_asks_to_type_when_a_latest_goes(editor_client, seed):
    oldest = seed.image("web-1", family="web-app")
    middle = seed.image("web-2", family="web-app")
    newest = seed.image("web-3", family="web-app")
    other = seed.image("db-1", family="db-main")
    untouched = seed.image("db-2", family="db-main")
    url = f"/f/{FOLDER}/images/bulk-delete"
    confirm = editor_client.post(url, {"ids": [newest, middle, other]})
    impacts = {impact.family: impact for impact in confirm.context["impacts"]}
    assert impacts["web-app"].was_latest.id == newest and impacts["web-app"].becomes_latest.id == oldest
    assert "db-main" not in impacts  # db-2 is newer than db-1: the latest stays
    body = confirm.content.decode()
    assert "stops being it" in body and 'name="confirm"' in body and untouched not in body
    refused = editor_client.post(url, {"ids": [newest, middle, other], "step": "delete", "confirm": "2"})
    assert refused.status_code == 400 and "Type the folder" in refused.content.decode()
    assert get_image(seed.backend, newest).name == "web-3"
    done = editor_client.post(url, {"ids": [newest, middle, other], "step": "delete", "confirm": "3"})
    assert done.status_code == 200 and [row["ok"] for row in done.context["rows"]] == [True, True, True]


def test_bulk_delete_of_more_than_ten_asks_to_type_the_folder_name(editor_client, seed):
    ids = [seed.image(f"img-{i:02d}") for i in range(11)]
    url = f"/f/{FOLDER}/images/bulk-delete"
    confirm = editor_client.post(url, {"ids": ids})
    assert confirm.context["typed_confirm"] and not confirm.context["impacts"]
    refused = editor_client.post(url, {"ids": ids, "step": "delete"})
    assert refused.status_code == 400 and not any(row["ok"] for row in refused.context["rows"])
    done = editor_client.post(url, {"ids": ids, "step": "delete", "confirm": FOLDER})
    assert all(row["ok"] for row in done.context["rows"])


def test_bulk_delete_of_a_few_non_latest_images_needs_no_typing(editor_client, seed):
    older = seed.image("web-1", family="web-app")
    seed.image("web-2", family="web-app")
    url = f"/f/{FOLDER}/images/bulk-delete"
    assert not editor_client.post(url, {"ids": [older]}).context["typed_confirm"]
    done = editor_client.post(url, {"ids": [older], "step": "delete"})
    assert done.context["rows"][0]["ok"]


def test_live_preview_shows_the_changes_so_far_without_saving(editor_client, seed):
    image_id = seed.image("web-1", labels={"env": "prod"})
    url = f"/images/{image_id}/edit"
    opened = editor_client.get(url).content.decode()
    assert 'id="live-changes"' in opened
    data = edit_form(opened, name="web-2")
    response = editor_client.post(f"{url}/preview", data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "web-1" in body and "web-2" in body and 'id="live-changes"' in body
    assert get_image(seed.backend, image_id).name == "web-1"
