"""PostgreSQL: drops the varchar_pattern_ops (`_like`) indexes Django adds beside the primary key of
a CharField, on the images and operations tables.

Nothing matches ids with LIKE (filters compare ids whole), so each is one more index every insert
writes and the buffer cache holds: on images a copy of the primary key. Dropped concurrently, so
writers keep going; there is nothing to rebuild on the way back.
"""

from django.db import migrations

TABLES = ("images_image", "images_operation")


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef LIKE %s",
            [list(TABLES), "%(id varchar_pattern_ops)%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("images", "0007_image_family_summary"),
    ]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop, elidable=False)]
