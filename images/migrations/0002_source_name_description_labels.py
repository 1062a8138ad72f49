# Sources get the names, descriptions and labels DiskService and SnapshotService serve.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='source',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='source',
            name='description',
            field=models.CharField(blank=True, default='', max_length=256),
        ),
        migrations.AddField(
            model_name='source',
            name='labels',
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name='source',
            name='name',
            field=models.CharField(blank=True, default='', max_length=63),
        ),
        migrations.AddIndex(
            model_name='source',
            index=models.Index(fields=['kind', 'folder_id', 'id'], name='source_folder_id'),
        ),
        migrations.AddIndex(
            model_name='source',
            index=models.Index(fields=['kind', 'folder_id', 'name', 'id'], name='source_folder_name'),
        ),
        migrations.AddIndex(
            model_name='source',
            index=models.Index(fields=['kind', 'folder_id', 'created_at', 'id'], name='source_folder_created'),
        ),
        migrations.AddConstraint(
            model_name='source',
            constraint=models.UniqueConstraint(condition=models.Q(('name', ''), _negated=True), fields=('kind', 'folder_id', 'name'), name='source_name_unique_in_folder'),
        ),
    ]
