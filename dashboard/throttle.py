"""Sign-in throttling: too many failures for a username or a client address earn a cool-off."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dashboard.models import LoginThrottle


def keys(request, username: str) -> dict[str, int]:
    """Throttle keys of one attempt, each with its failure limit."""
    address = request.META.get("REMOTE_ADDR", "")
    return {
        f"user:{username.strip().lower()[:150]}": settings.DASHBOARD_LOGIN_MAX_FAILURES,
        f"addr:{address}": settings.DASHBOARD_LOGIN_MAX_FAILURES_PER_ADDRESS,
    }


def locked_for(limits: dict[str, int]) -> dt.timedelta | None:
    """How long the attempt must still wait, or None when it may go ahead."""
    now = timezone.now()
    until = (
        LoginThrottle.objects.filter(key__in=limits, locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    return until - now if until else None


@transaction.atomic
def record_failure(limits: dict[str, int]) -> None:
    now = timezone.now()
    window = dt.timedelta(seconds=settings.DASHBOARD_LOGIN_WINDOW_SECONDS)
    cool_off = dt.timedelta(seconds=settings.DASHBOARD_LOGIN_COOL_OFF_SECONDS)
    for key, limit in limits.items():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(
            key=key, defaults={"window_started_at": now}
        )
        if now - throttle.window_started_at > window:
            throttle.failures, throttle.window_started_at = 0, now
        throttle.failures += 1
        if throttle.failures >= limit:
            throttle.locked_until = now + cool_off
            throttle.failures, throttle.window_started_at = 0, now
        throttle.save()


def record_success(limits: dict[str, int]) -> None:
    user_keys = [key for key in limits if key.startswith("user:")]
    LoginThrottle.objects.filter(key__in=user_keys).delete()
