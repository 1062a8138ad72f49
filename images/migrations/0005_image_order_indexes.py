"""Indexes for every List order after a status, and for a family's timeline.

Built concurrently on PostgreSQL, so a big folder keeps taking writes while they build.
"""

from django.db import migrations, models

from images.migrations._operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("images", "0004_image_labels"),
    ]

    operations = [
        AddIndexOnline(
            model_name="image",
            index=models.Index(fields=["folder_id", "status", "id"], name="image_status_id"),
        ),
        AddIndexOnline(
            model_name="image",
            index=models.Index(fields=["folder_id", "status", "name", "id"], name="image_status_name"),
        ),
        AddIndexOnline(
            model_name="image",
            index=models.Index(fields=["folder_id", "status", "created_at", "id"], name="image_status_created"),
        ),
        AddIndexOnline(
            model_name="image",
            index=models.Index(fields=["folder_id", "family", "created_at", "id"], name="image_family_created"),
        ),
    ]
