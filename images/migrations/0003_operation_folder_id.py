# Operations remember their folder, so a folder's operations can be listed (deleted images too).

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def folder_of_existing_images(apps, schema_editor):
    # Operations of images deleted before this migration keep "" (their folder is gone with them).
    Image = apps.get_model("images", "Image")
    Operation = apps.get_model("images", "Operation")
    folder = Image.objects.filter(id=OuterRef("image_id")).values("folder_id")[:1]
    Operation.objects.filter(image_id__in=Image.objects.values("id")).update(folder_id=Subquery(folder))


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0002_source_name_description_labels'),
    ]

    operations = [
        migrations.AddField(
            model_name='operation',
            name='folder_id',
            field=models.CharField(blank=True, default='', max_length=50),
        ),
        migrations.RunPython(folder_of_existing_images, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='operation',
            index=models.Index(fields=['folder_id', 'created_at', 'id'], name='operation_folder'),
        ),
    ]
