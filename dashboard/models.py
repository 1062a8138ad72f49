"""Dashboard-only records: each person's backend token and preferences, saved views, failed logins."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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
    while the URL carries one token (a list's scope and size are part of the key).

    Rows are purged some time after they were recorded (dashboard.pager); a page whose row is gone
    offers the first page instead of Previous, as a link made elsewhere does."""

    key = models.CharField(max_length=120, primary_key=True)
    previous = models.CharField(max_length=100, blank=True)
    number = models.PositiveIntegerField(null=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["recorded_at"], name="page_link_recorded")]

    def __str__(self) -> str:
        return f"page {self.number or '?'}"


THEMES = {"auto": "Auto (as the system)", "light": "Light", "dark": "Dark"}


class Preferences(models.Model):
    """How one person likes the dashboard: theme, list page size, hidden list columns, default folder.

    Blank values mean "the dashboard's default", so a default that changes later still reaches
    everyone who never chose otherwise. Columns are stored as the hidden ones for the same reason:
    a column added later shows until someone hides it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard_preferences"
    )
    theme = models.CharField(max_length=5, choices=THEMES.items(), default="auto")
    page_size = models.PositiveSmallIntegerField(null=True, blank=True)
    hidden_columns = models.JSONField(default=list, blank=True)
    default_folder = models.CharField(max_length=50, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user}"


class SavedView(models.Model):
    """A named filter and sort of one folder's image list: the list URL's query, kept for its owner."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    folder_id = models.CharField(max_length=50)
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["folder_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "folder_id", "name"], name="saved_view_name_per_folder")
        ]

    def __str__(self) -> str:
        return f"{self.name} in {self.folder_id}"
