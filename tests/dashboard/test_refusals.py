"""How the backend's refusals of a save are put on the form."""

import grpc
from django.http import QueryDict

from dashboard.backend import Conflict
from dashboard.forms import EditImageForm
from dashboard.views.changes import _refused
from tests.dashboard.test_changes import CREATE, create_form


def test_only_already_exists_is_reported_as_a_name_clash():
    form = EditImageForm(QueryDict())
    form.is_valid()
    assert _refused(form, Conflict("taken", grpc.StatusCode.ALREADY_EXISTS), "web-1") == 409
    assert "already exists" in form.errors["name"][-1]

    form = EditImageForm(QueryDict())
    form.is_valid()
    aborted = Conflict("the import was interrupted by a server restart", grpc.StatusCode.ABORTED)
    assert _refused(form, aborted, "web-1") == 409
    assert "name" not in form.errors or not any("already exists" in e for e in form.errors["name"])
    assert form.non_field_errors() == ["the import was interrupted by a server restart"]


def test_size_limits_in_messages_are_in_human_units_with_exact_bytes(editor_client, seed):
    # 5 MiB is allowed by the rule but below the 8 GiB disk: the backend's message counts bytes.
    data = create_form(source_id=seed.disk, name="small", min_disk_size_0="5", min_disk_size_1="MiB")
    errors = editor_client.post(CREATE, data).context["form"].errors["min_disk_size"]
    assert errors == ["Must be at least the source's size 8 GiB (8,589,934,592 bytes)."]

    data = create_form(source_id=seed.disk, name="tiny", min_disk_size_0="1", min_disk_size_1="MiB")
    errors = editor_client.post(CREATE, data).context["form"].errors["min_disk_size"]
    assert errors == ["Must be 0 or from 4 MiB (4,194,304 bytes) to 4 TiB (4,398,046,511,104 bytes)."]
