"""python manage.py registersource disk|snapshot --folder-id F --size BYTES [...]: prints the new id last."""

from django.core.management.base import BaseCommand, CommandError

from images.domain.sources import source_register


class Command(BaseCommand):
    help = "Register a disk or snapshot that images can be created from; prints its id as the last line."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["disk", "snapshot"])
        parser.add_argument("--folder-id", required=True)
        parser.add_argument("--size", type=int, required=True, help="size in bytes")
        parser.add_argument("--product-id", action="append", default=[], dest="product_ids")
        parser.add_argument("--os", choices=["linux", "windows"], default="")

    def handle(self, *args, kind, folder_id, size, product_ids, os, **options):
        try:
            source = source_register(
                kind=kind, folder_id=folder_id, size=size, product_ids=product_ids, os=os
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(source.id)
