"""The dashboard app."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from dashboard import accounts
        from images import telemetry

        accounts.connect_signals()
        telemetry.setup_tracing("imageservice-dashboard")
