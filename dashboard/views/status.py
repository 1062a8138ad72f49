"""The backend-down banner's own probe: it asks again, backing off, and removes itself once the
backend answers, so a stale "unreachable" never outlives the outage."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET
from django_htmx.http import reswap, retarget

from dashboard.views.common import backend_for
from dashboard.watch import FIRST_WAIT, longer

# The probe backs off like the pages' status poll: 1, 2, 4 ... 30 s.
FIRST_PROBE_SECONDS = FIRST_WAIT


def next_probe(after: str | int | None) -> int:
    """The delay before the probe after one that waited `after` seconds (none yet: the first)."""
    try:
        waited = int(after or 0)
    except ValueError:
        waited = 0
    return longer(waited) if waited > 0 else FIRST_PROBE_SECONDS


@require_GET
def backend_probe(request):
    """Still down: a new probe in the banner, waiting twice as long. Answering: the banner goes."""
    if backend_for(request).serving():
        return reswap(retarget(HttpResponse(""), "closest [data-backend-alert]"), "outerHTML")
    context = {"probe_after": next_probe(request.GET.get("after"))}
    return TemplateResponse(request, "error.html#probe", context)
