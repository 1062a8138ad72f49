"""python manage.py seeddemo: demo folder, families with versions, sources, finished and failed operations."""

from django.core.management.base import BaseCommand

from images.domain.demo import DEMO_FOLDER, seed_demo


class Command(BaseCommand):
    help = "Load demo data (once) into the demo folder."

    def add_arguments(self, parser):
        parser.add_argument("--folder-id", default=DEMO_FOLDER)

    def handle(self, *args, folder_id, **options):
        if seed_demo(folder_id):
            self.stdout.write(f"demo data loaded into folder {folder_id}")
        else:
            self.stdout.write(f"folder {folder_id} already has images; demo data left as it is")
        from images.store.models import Source

        for source in Source.objects.filter(folder_id=folder_id).order_by("kind", "size"):
            self.stdout.write(f"  {source.kind} {source.id} size={source.size}")
