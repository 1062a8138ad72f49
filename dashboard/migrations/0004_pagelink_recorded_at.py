"""Page links get the time they were recorded, indexed, so that old ones can be purged by a range.

The rows recorded so far are dropped first: they are only Previous links (a page whose link is
gone offers the first page instead), they may be many, since nothing purged them, and with the
table empty the column (NOT NULL, which SQLite adds by copying the table) and its index cost nothing
on either database.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0003_preferences_saved_views"),
    ]

    operations = [
        migrations.RunSQL(
            "DELETE FROM dashboard_pagelink", reverse_sql=migrations.RunSQL.noop, elidable=True
        ),
        migrations.AddField(
            model_name="pagelink",
            name="recorded_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddIndex(
            model_name="pagelink",
            index=models.Index(fields=["recorded_at"], name="page_link_recorded"),
        ),
    ]
