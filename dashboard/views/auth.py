"""Sign in (throttled, with a cool-off) and sign out."""

from __future__ import annotations

import math

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from dashboard import metrics, throttle


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_not_required
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    form = AuthenticationForm(request, data=request.POST if request.method == "POST" else None)
    status, locked_message = 200, ""
    if request.method == "POST":
        limits = throttle.keys(request, request.POST.get("username", ""))
        wait = throttle.locked_for(limits)
        if wait is not None:
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            locked_message = (
                f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )
            status = 429
            metrics.LOGIN_THROTTLED.inc()
        elif form.is_valid():
            throttle.record_success(limits)
            login(request, form.get_user())
            return redirect(_next_url(request))
        else:
            throttle.record_failure(limits)
            metrics.LOGIN_FAILURES.inc()
            status = 400
    context = {"form": form, "next": _next_url(request), "locked_message": locked_message}
    return TemplateResponse(request, "login.html", context, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")
