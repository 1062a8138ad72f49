"""python manage.py createtoken NAME --role editor|viewer: prints the new token as its last line."""

from django.core.management.base import BaseCommand

from images.domain.auth import create_token
from images.store.models import Role


class Command(BaseCommand):
    help = "Create (or replace) the API token of NAME; the token is printed once, as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", choices=Role.values, required=True)

    def handle(self, *args, name, role, **options):
        token = create_token(name=name, role=role)
        self.stderr.write(f"token for {name} ({role}); store it now, it is not shown again:")
        self.stdout.write(token)
