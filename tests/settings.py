"""Settings of the test run: the test process plays both processes, so it installs both apps (one
database holds both apps' tables) with each process's settings; backends under test that run as
their own processes get images.settings."""

from dashboard import settings as dashboard_settings
from dashboard.settings import *  # noqa: F403
from images import settings as backend_settings
from images.settings import *  # noqa: F403

INSTALLED_APPS = [*dashboard_settings.INSTALLED_APPS, *backend_settings.INSTALLED_APPS]
# The suite does not run collectstatic (tests/dashboard/test_static.py does, into its own
# directory), and live_server serves static files from the finders: plain names here.
STORAGES = {
    **dashboard_settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
