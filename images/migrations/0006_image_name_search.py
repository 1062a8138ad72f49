"""An index that finds the images whose name contains a text (the `name:"text"` search).

PostgreSQL: a pg_trgm GIN index on name, which serves LIKE '%text%' (built concurrently).
SQLite: an FTS5 trigram table of the names, kept by triggers in the same transaction as every
image change. It holds each name with its image id, and rows are found again by name, never by
rowid: VACUUM may renumber the rowids of the image table. Names shorter than three characters
are left out: they cannot contain a text of three, and shorter texts are searched with LIKE.
"""

from django.db import migrations

POSTGRESQL_FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS image_name_trgm ON images_image USING gin (name gin_trgm_ops)",
]
POSTGRESQL_BACKWARDS = ["DROP INDEX CONCURRENTLY IF EXISTS image_name_trgm"]

_SQLITE_DELETE_OLD = """
    DELETE FROM images_image_name_search WHERE rowid IN (
        SELECT rowid FROM images_image_name_search
        WHERE images_image_name_search MATCH '"' || old.name || '"' AND image_id = old.id
    );
"""
_SQLITE_INSERT_NEW = """
    INSERT INTO images_image_name_search (name, image_id) SELECT new.name, new.id
    WHERE length(new.name) >= 3;
"""
SQLITE_FORWARDS = [
    "CREATE VIRTUAL TABLE images_image_name_search USING fts5(name, image_id UNINDEXED, tokenize='trigram')",
    """INSERT INTO images_image_name_search (name, image_id)
       SELECT name, id FROM images_image WHERE length(name) >= 3""",
    f"""CREATE TRIGGER images_image_name_search_insert AFTER INSERT ON images_image BEGIN
        {_SQLITE_INSERT_NEW} END""",
    f"""CREATE TRIGGER images_image_name_search_update AFTER UPDATE OF name ON images_image
        WHEN old.name IS NOT new.name BEGIN {_SQLITE_DELETE_OLD} {_SQLITE_INSERT_NEW} END""",
    f"""CREATE TRIGGER images_image_name_search_delete AFTER DELETE ON images_image
        WHEN length(old.name) >= 3 BEGIN {_SQLITE_DELETE_OLD} END""",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER images_image_name_search_insert",
    "DROP TRIGGER images_image_name_search_update",
    "DROP TRIGGER images_image_name_search_delete",
    "DROP TABLE images_image_name_search",
]


def _run(statements):
    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for statement in statements[schema_editor.connection.vendor]:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("images", "0005_image_order_indexes"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARDS, "sqlite": SQLITE_FORWARDS}),
            _run({"postgresql": POSTGRESQL_BACKWARDS, "sqlite": SQLITE_BACKWARDS}),
            elidable=False,
        ),
    ]
