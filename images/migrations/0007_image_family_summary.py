"""The family summary table (ImageFamily): one row per family of a folder, kept by triggers.

The triggers run in the statement that changes an image, so the summary commits or rolls back with
it whatever path made the change (API, worker, recovery batch, verify, bulk seeding). An insert adds
to the count and moves the newest marks forward with no lookup; a delete, or a change of status,
family or created_at, takes the old row out (one index lookup, only when it held a mark) and puts
the new one in. The triggers are created before the backfill, in one transaction: on PostgreSQL
CREATE TRIGGER holds writers off until the backfill commits, so no change falls between the two.
"""

from django.db import migrations, models

NEWER = (
    "excluded.latest_image_id IS NOT NULL AND (images_imagefamily.latest_image_id IS NULL"
    " OR (excluded.latest_created_at, excluded.latest_image_id)"
    " > (images_imagefamily.latest_created_at, images_imagefamily.latest_image_id))"
)


def _add(row: str, greatest: str) -> str:
    return f"""
        INSERT INTO images_imagefamily
            (folder_id, family, image_count, last_change_at, latest_image_id, latest_created_at)
        SELECT {row}.folder_id, {row}.family, 1, {row}.created_at,
               CASE WHEN {row}.status = 2 THEN {row}.id END,
               CASE WHEN {row}.status = 2 THEN {row}.created_at END
        WHERE {row}.family <> ''
        ON CONFLICT (folder_id, family) DO UPDATE SET
            image_count = images_imagefamily.image_count + 1,
            last_change_at = {greatest}(images_imagefamily.last_change_at, excluded.last_change_at),
            latest_image_id = CASE WHEN {NEWER} THEN excluded.latest_image_id
                                   ELSE images_imagefamily.latest_image_id END,
            latest_created_at = CASE WHEN {NEWER} THEN excluded.latest_created_at
                                     ELSE images_imagefamily.latest_created_at END;
    """


def _remove(row: str) -> str:
    family = f"folder_id = {row}.folder_id AND family = {row}.family"
    latest = f"FROM images_image WHERE {family} AND status = 2 ORDER BY created_at DESC, id DESC LIMIT 1"
    return f"""
        UPDATE images_imagefamily SET image_count = image_count - 1 WHERE {family};
        DELETE FROM images_imagefamily WHERE {family} AND image_count = 0;
        UPDATE images_imagefamily
        SET last_change_at = (SELECT max(created_at) FROM images_image WHERE {family})
        WHERE {family} AND last_change_at = {row}.created_at;
        UPDATE images_imagefamily
        SET latest_image_id = (SELECT id {latest}), latest_created_at = (SELECT created_at {latest})
        WHERE {family} AND latest_image_id = {row}.id;
    """


# Only a change of what the summary holds fires the update trigger (a save() writes every column).
_CHANGED = (
    "old.status IS {op} new.status OR old.family IS {op} new.family"
    " OR old.folder_id IS {op} new.folder_id OR old.created_at IS {op} new.created_at"
)
_COLUMNS = "folder_id, family, status, created_at"

SQLITE_FORWARDS = [
    f"""CREATE TRIGGER images_image_family_insert AFTER INSERT ON images_image
        BEGIN {_add("new", "max")} END""",
    f"""CREATE TRIGGER images_image_family_delete AFTER DELETE ON images_image
        WHEN old.family <> '' BEGIN {_remove("old")} END""",
    f"""CREATE TRIGGER images_image_family_update AFTER UPDATE OF {_COLUMNS} ON images_image
        WHEN {_CHANGED.format(op="NOT")} BEGIN {_remove("old")} {_add("new", "max")} END""",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER images_image_family_insert",
    "DROP TRIGGER images_image_family_delete",
    "DROP TRIGGER images_image_family_update",
]
POSTGRESQL_FORWARDS = [
    f"""CREATE FUNCTION images_image_family_summary() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN {_remove("OLD")} END IF;
        IF TG_OP <> 'DELETE' THEN {_add("NEW", "greatest")} END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER images_image_family_insert AFTER INSERT ON images_image
       FOR EACH ROW EXECUTE FUNCTION images_image_family_summary()""",
    """CREATE TRIGGER images_image_family_delete AFTER DELETE ON images_image
       FOR EACH ROW WHEN (old.family <> '') EXECUTE FUNCTION images_image_family_summary()""",
    f"""CREATE TRIGGER images_image_family_update AFTER UPDATE OF {_COLUMNS} ON images_image
       FOR EACH ROW WHEN ({_CHANGED.format(op="DISTINCT FROM")})
       EXECUTE FUNCTION images_image_family_summary()""",
]
POSTGRESQL_BACKWARDS = [
    "DROP TRIGGER images_image_family_insert ON images_image",
    "DROP TRIGGER images_image_family_delete ON images_image",
    "DROP TRIGGER images_image_family_update ON images_image",
    "DROP FUNCTION images_image_family_summary()",
]

# The summary of the images already there: one GROUP BY, then each family's newest READY image
# (one lookup of the family index per family).
BACKFILL = [
    """INSERT INTO images_imagefamily (folder_id, family, image_count, last_change_at)
       SELECT folder_id, family, count(*), max(created_at) FROM images_image
       WHERE family <> '' GROUP BY folder_id, family""",
    """UPDATE images_imagefamily SET
         latest_image_id = (SELECT id FROM images_image AS image
             WHERE image.folder_id = images_imagefamily.folder_id
               AND image.family = images_imagefamily.family AND image.status = 2
             ORDER BY image.created_at DESC, image.id DESC LIMIT 1),
         latest_created_at = (SELECT created_at FROM images_image AS image
             WHERE image.folder_id = images_imagefamily.folder_id
               AND image.family = images_imagefamily.family AND image.status = 2
             ORDER BY image.created_at DESC, image.id DESC LIMIT 1)""",
]


def _run(statements):
    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for statement in statements[schema_editor.connection.vendor]:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("images", "0006_image_name_search"),
    ]

    operations = [
        migrations.CreateModel(
            name="ImageFamily",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("folder_id", models.CharField(max_length=50)),
                ("family", models.CharField(max_length=63)),
                ("image_count", models.IntegerField()),
                ("last_change_at", models.DateTimeField()),
                ("latest_image_id", models.CharField(max_length=20, null=True)),
                ("latest_created_at", models.DateTimeField(null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("folder_id", "family"), name="image_family_unique")
                ],
            },
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARDS + BACKFILL, "sqlite": SQLITE_FORWARDS + BACKFILL}),
            _run({"postgresql": POSTGRESQL_BACKWARDS, "sqlite": SQLITE_BACKWARDS}),
            elidable=False,
        ),
    ]
