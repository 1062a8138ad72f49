"""python manage.py seeddemo: demo folder, families with versions, sources, finished and failed operations."""

from django.core.management.base import BaseCommand

from images.domain.demo import DEMO_FOLDER, seed_demo, staging_folder


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

        folders = [folder_id, staging_folder(folder_id)]
        for source in Source.objects.filter(folder_id__in=folders).order_by("folder_id", "kind", "size"):
            self.stdout.write(
                f"  {source.folder_id} {source.kind} {source.id} {source.name} size={source.size}"
            )
