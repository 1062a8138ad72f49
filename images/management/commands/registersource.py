"""python manage.py registersource disk|snapshot --folder-id F --size BYTES [...]: prints the new id last."""

from django.core.management.base import BaseCommand, CommandError

from images.domain.sources import source_register
from images.errors import ServiceError


def _label(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals:
        raise CommandError(f"--label takes key=value, got {text!r}")
    return key, value


class Command(BaseCommand):
    help = "Register a disk or snapshot that images can be created from; prints its id as the last line."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["disk", "snapshot"])
        parser.add_argument("--folder-id", required=True)
        parser.add_argument("--size", type=int, required=True, help="size in bytes")
        parser.add_argument("--product-id", action="append", default=[], dest="product_ids")
        parser.add_argument("--os", choices=["linux", "windows"], default="")
        parser.add_argument("--name", default="", help="unique among the folder's disks (or snapshots)")
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--label", action="append", default=[], dest="labels", metavar="KEY=VALUE", help="repeatable"
        )

    def handle(self, *args, kind, folder_id, size, product_ids, os, name, description, labels, **options):
        pairs = [_label(text) for text in labels]
        keys = [key for key, _ in pairs]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise CommandError(f"--label {duplicates[0]} given more than once")
        try:
            source = source_register(
                kind=kind,
                folder_id=folder_id,
                size=size,
                product_ids=product_ids,
                os=os,
                name=name,
                description=description,
                labels=dict(pairs),
            )
        except (ValueError, ServiceError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(source.id)
