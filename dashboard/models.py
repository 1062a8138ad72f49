"""Dashboard-only records: each person's backend token, and failed logins for throttling."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BackendAccount(models.Model):
    """The API token a dashboard user acts with; it stays on the server and never reaches a page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backend_account"
    )
    token = models.CharField(max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:  # never the token
        return f"backend account of {self.user}"


class LoginThrottle(models.Model):
    """Recent failed logins for one username or one client address, and the cool-off they earned."""

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} failures"


class PageLink(models.Model):
    """One step of token paging, as a Next link recorded it: the page a token opens, the token of the
    page before it, and its number. Page tokens only lead forward; these rows lead back, however deep,
    while the URL carries one token (a list's scope and size are part of the key)."""

    key = models.CharField(max_length=120, primary_key=True)
    previous = models.CharField(max_length=100, blank=True)
    number = models.PositiveIntegerField(null=True)

    def __str__(self) -> str:
        return f"page {self.number or '?'}"
