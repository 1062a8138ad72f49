"""python manage.py verifyimages: re-hash stored data; mark images with missing or corrupt data ERROR."""

from django.core.management.base import BaseCommand

from images.domain.verify import images_verify


class Command(BaseCommand):
    help = "Re-hash every stored image's data; images whose data is missing or corrupt become ERROR."

    def handle(self, *args, **options):
        report = images_verify()
        for image_id in report.images_marked_error:
            self.stdout.write(f"ERROR {image_id}: stored data missing or corrupt")
        self.stdout.write(
            f"checked {report.blobs_checked} stored blob(s); {len(report.images_marked_error)} image(s) marked ERROR"
        )
