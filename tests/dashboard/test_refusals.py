"""How the backend's refusals of a save are put on the form."""

import grpc
from django.http import QueryDict

from dashboard.backend import Conflict
from dashboard.forms import EditImageForm
from dashboard.views.changes import _refused


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
