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
