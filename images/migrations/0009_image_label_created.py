"""The label side table carries each image's created_at, with an index that gives a label value's
images in createdAt order: a page of `labels.k = "v"` ordered by createdAt is one range of it.

The column is added nullable (SQLite adds it without copying the table), filled in one statement,
then indexed (concurrently on PostgreSQL).
"""

from django.db import migrations, models

from images.migrations._operations import AddIndexOnline

BACKFILL = {
    "sqlite": """
        UPDATE images_imagelabel SET created_at = (
            SELECT image.created_at FROM images_image AS image WHERE image.id = images_imagelabel.image_id
        )
    """,
    "postgresql": """
        UPDATE images_imagelabel AS label SET created_at = image.created_at
        FROM images_image AS image WHERE image.id = label.image_id
    """,
}


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL[schema_editor.connection.vendor])


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("images", "0008_drop_id_pattern_indexes"),
    ]

    operations = [
        migrations.AddField(model_name="imagelabel", name="created_at", field=models.DateTimeField(null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        AddIndexOnline(
            model_name="imagelabel",
            index=models.Index(
                fields=["folder_id", "key", "value", "created_at", "image"], name="image_label_created"
            ),
        ),
    ]
