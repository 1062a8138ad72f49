"""python manage.py createdashboarduser NAME --role editor|viewer --password P --token T"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.access import ROLES
from dashboard.models import BackendAccount


class Command(BaseCommand):
    help = (
        "Create or update a dashboard user in group viewer or editor, with the backend API token "
        "(from `manage.py createtoken NAME --role ...`) the user acts with."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--token", required=True, help="the backend API token of this user")

    @transaction.atomic
    def handle(self, *args, name, role, password, token, **options):
        if not token.strip():
            raise CommandError("--token must not be empty")
        user, created = get_user_model().objects.get_or_create(username=name)
        user.set_password(password)
        user.save()
        groups = {group: Group.objects.get_or_create(name=group)[0] for group in ROLES}
        user.groups.remove(*groups.values())
        user.groups.add(groups[role])
        BackendAccount.objects.update_or_create(user=user, defaults={"token": token.strip()})
        self.stdout.write(f"{'created' if created else 'updated'} dashboard user {name} ({role})")
