#!/usr/bin/env python
"""Django's command-line utility for the ImageService backend and dashboard.

Each process has its own settings: the dashboard's commands run with dashboard.settings, every
other command with the backend's images.settings, unless DJANGO_SETTINGS_MODULE says otherwise.
`migrate` without it migrates the one database for both.
"""

import os
import subprocess
import sys

BACKEND_SETTINGS = "images.settings"
DASHBOARD_SETTINGS = "dashboard.settings"
# Commands of the dashboard app and of the contrib apps only the dashboard installs.
DASHBOARD_COMMANDS = frozenset(
    {
        "createdashboarduser",
        "collectstatic",
        "findstatic",
        "runserver",
        "createsuperuser",
        "changepassword",
        "clearsessions",
    }
)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if "DJANGO_SETTINGS_MODULE" not in os.environ and command == "migrate":
        for module in (BACKEND_SETTINGS, DASHBOARD_SETTINGS):
            env = dict(os.environ, DJANGO_SETTINGS_MODULE=module)
            subprocess.run([sys.executable, *sys.argv], env=env, check=True)  # noqa: S603
        return
    default = DASHBOARD_SETTINGS if command in DASHBOARD_COMMANDS else BACKEND_SETTINGS
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
