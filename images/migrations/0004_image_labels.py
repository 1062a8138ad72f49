"""The label side table (one row per image label), filled from the images' JSON labels."""

import django.db.models.deletion
from django.db import migrations, models

# One statement, so a database of a million images fills the table without a Python loop.
BACKFILL = {
    "sqlite": """
        INSERT INTO images_imagelabel (image_id, folder_id, key, value)
        SELECT image.id, image.folder_id, label.key, label.value
        FROM images_image AS image, json_each(image.labels) AS label
    """,
    "postgresql": """
        INSERT INTO images_imagelabel (image_id, folder_id, key, value)
        SELECT image.id, image.folder_id, label.key, label.value
        FROM images_image AS image, jsonb_each_text(image.labels) AS label
    """,
}


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL[schema_editor.connection.vendor])


class Migration(migrations.Migration):
    dependencies = [
        ("images", "0003_operation_folder_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="ImageLabel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("folder_id", models.CharField(max_length=50)),
                ("key", models.CharField(max_length=63)),
                ("value", models.CharField(blank=True, default="", max_length=63)),
                (
                    "image",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="images.image",
                    ),
                ),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        # The table is new, so nothing waits on its indexes while they build.
        migrations.AddIndex(
            model_name="imagelabel",
            index=models.Index(fields=["folder_id", "key", "value", "image"], name="image_label_lookup"),
        ),
        migrations.AddConstraint(
            model_name="imagelabel",
            constraint=models.UniqueConstraint(fields=("image", "key"), name="image_label_unique_key"),
        ),
    ]
