"""Persistent state of the backend: images, operations, idempotency keys, sources, API tokens."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone


class ImageStatus(models.IntegerChoices):
    # Values are the wire enum's numbers (yandex.cloud.compute.v1.Image.Status).
    STATUS_UNSPECIFIED = 0
    CREATING = 1
    READY = 2
    ERROR = 3
    DELETING = 4


class OsType(models.IntegerChoices):
    TYPE_UNSPECIFIED = 0
    LINUX = 1
    WINDOWS = 2


class ImageQuerySet(models.QuerySet):
    def bulk_create(self, objs: Iterable[Image], *args: Any, **kwargs: Any) -> list[Image]:
        """Inserts the images and, in the same transaction, their rows of the label table."""
        with transaction.atomic(using=self.db, savepoint=False):
            images = super().bulk_create(objs, *args, **kwargs)
            ImageLabel.objects.using(self.db).bulk_create(
                [label for image in images for label in ImageLabel.rows_of(image)], batch_size=1000
            )
        for image in images:
            image._saved_labels = dict(image.labels)
        return images


class Image(models.Model):
    id = models.CharField(primary_key=True, max_length=20)
    folder_id = models.CharField(max_length=50)
    created_at = models.DateTimeField()
    name = models.CharField(max_length=63, blank=True, default="")
    description = models.CharField(max_length=256, blank=True, default="")
    labels = models.JSONField(default=dict)
    family = models.CharField(max_length=63, blank=True, default="")
    storage_size = models.BigIntegerField(default=0)
    min_disk_size = models.BigIntegerField(default=0)
    product_ids = models.JSONField(default=list)
    status = models.SmallIntegerField(choices=ImageStatus.choices, default=ImageStatus.CREATING)
    os_type = models.SmallIntegerField(choices=OsType.choices, default=OsType.TYPE_UNSPECIFIED)
    pooled = models.BooleanField(default=False)
    size = models.BigIntegerField(default=0)
    # sha256 (hex) of the stored data in the content-addressed store; "" when the image has none.
    blob = models.CharField(max_length=64, blank=True, default="")
    # The operation currently changing this image. Set while the image's row is locked, so two
    # mutations cannot both start: the second sees it set and gets FAILED_PRECONDITION.
    active_operation_id = models.CharField(max_length=20, null=True, blank=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["folder_id", "name"], condition=~Q(name=""), name="image_name_unique_in_folder"
            ),
        ]
        # Every List order (id, name, createdAt; a descending order reads the index backwards) has
        # an index within a folder, alone and after a status, so that a page at any depth, filtered
        # or not, is one index range. Name search has its own index (see the search migration).
        indexes = [
            models.Index(fields=["folder_id", "id"], name="image_folder_id"),
            models.Index(fields=["folder_id", "name", "id"], name="image_folder_name"),
            models.Index(fields=["folder_id", "created_at", "id"], name="image_folder_created"),
            models.Index(fields=["folder_id", "status", "id"], name="image_status_id"),
            models.Index(fields=["folder_id", "status", "name", "id"], name="image_status_name"),
            models.Index(fields=["folder_id", "status", "created_at", "id"], name="image_status_created"),
            # GetLatestByFamily, and a status filter within a family.
            models.Index(
                fields=["folder_id", "family", "status", "created_at", "id"], name="image_family_latest"
            ),
            # A family's timeline (family filter, createdAt order).
            models.Index(fields=["folder_id", "family", "created_at", "id"], name="image_family_created"),
            models.Index(fields=["blob"], name="image_blob"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saves the image and, when its labels changed, its rows of the label table, in one
        transaction (the caller's, when it holds one)."""
        update_fields = kwargs.get("update_fields")
        relabel = (update_fields is None or "labels" in update_fields) and (
            self._state.adding or self.labels != getattr(self, "_saved_labels", None)
        )
        if not relabel:
            super().save(*args, **kwargs)
            return
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            super().save(*args, **kwargs)
            ImageLabel.objects.filter(image_id=self.id).delete()
            ImageLabel.objects.bulk_create(ImageLabel.rows_of(self))
        self._saved_labels = dict(self.labels)

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any]) -> Image:
        image = super().from_db(db, field_names, values)
        if "labels" in field_names:
            image._saved_labels = dict(image.labels)
        return image


class ImageLabel(models.Model):
    """One label of an image, so that `labels.k = "v"` and `labels.k:*` read an index range.

    Written with the image (Image.save, Image.objects.bulk_create); deleted with it (cascade).
    It carries the image's created_at (which never changes), so that a page of `labels.k = "v"`
    in id or createdAt order is one range of an index here, read no further than the page.
    """

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+", db_index=False)
    folder_id = models.CharField(max_length=50)
    key = models.CharField(max_length=63)
    value = models.CharField(max_length=63, blank=True, default="")
    # Null only in rows older than this column until its migration fills them.
    created_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "key"], name="image_label_unique_key")]
        indexes = [
            models.Index(fields=["folder_id", "key", "value", "image"], name="image_label_lookup"),
            models.Index(
                fields=["folder_id", "key", "value", "created_at", "image"], name="image_label_created"
            ),
        ]

    @classmethod
    def rows_of(cls, image: Image) -> list[ImageLabel]:
        return [
            cls(
                image_id=image.id,
                folder_id=image.folder_id,
                key=key,
                value=value,
                created_at=image.created_at,
            )
            for key, value in image.labels.items()
        ]


class ImageFamily(models.Model):
    """A family of a folder as the families page shows it: how many images it has, its newest
    created_at, and its newest READY image; one row per family, so a page is one index range.

    Kept by database triggers on images_image (migration image_family_summary) in the same statement
    as every image change: create, status change, rollback, delete, a bulk insert or a queryset
    update alike. Nothing in Python writes it.
    """

    folder_id = models.CharField(max_length=50)
    family = models.CharField(max_length=63)
    image_count = models.IntegerField()
    last_change_at = models.DateTimeField()
    latest_image_id = models.CharField(max_length=20, null=True)
    latest_created_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["folder_id", "family"], name="image_family_unique")]


class OperationKind(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Queue(models.TextChoices):
    """Operation.queue: imports run on their own threads so they never starve metadata work."""

    DEFAULT = "default"
    IMPORT = "import"


class OperationState(models.TextChoices):
    PENDING = "pending"  # persisted, waiting for a worker
    RUNNING = "running"  # claimed by a worker holding a lease
    DONE = "done"  # finished: response or error set


class Operation(models.Model):
    id = models.CharField(primary_key=True, max_length=20)
    kind = models.CharField(max_length=10, choices=OperationKind.choices)
    description = models.CharField(max_length=256)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=64)
    modified_at = models.DateTimeField()
    image_id = models.CharField(max_length=20)
    # The image's folder, kept on the operation so a folder's operations outlive deleted images.
    folder_id = models.CharField(max_length=50, blank=True, default="")
    queue = models.CharField(max_length=10, default=Queue.DEFAULT)  # a Queue value
    state = models.CharField(max_length=10, choices=OperationState.choices, default=OperationState.PENDING)
    # What the worker needs to finish the job (source, previous values for rollback, ...).
    payload = models.JSONField(default=dict)
    cancel_requested = models.BooleanField(default=False)
    # Result: a serialized Any for a response, or an error code and message.
    response = models.BinaryField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    # Worker lease, so a crashed worker's claim expires and another can recover the job.
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Import progress (bytes), shown through the extension service.
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(default=0)
    progress_phase = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["image_id", "created_at", "id"], name="operation_image"),
            models.Index(fields=["state", "queue", "created_at"], name="operation_state"),
            models.Index(fields=["folder_id", "created_at", "id"], name="operation_folder"),
        ]

    @property
    def done(self) -> bool:
        return self.state == OperationState.DONE


class IdempotencyKey(models.Model):
    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    operation_id = models.CharField(max_length=20)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]


class SourceKind(models.TextChoices):
    DISK = "disk"
    SNAPSHOT = "snapshot"


class Source(models.Model):
    """A disk or snapshot an image can be created from (a catalog; they hold no data here).

    Served read-only as DiskService and SnapshotService; always READY.
    """

    id = models.CharField(primary_key=True, max_length=20)
    kind = models.CharField(max_length=10, choices=SourceKind.choices)
    folder_id = models.CharField(max_length=50)
    size = models.BigIntegerField()
    product_ids = models.JSONField(default=list)
    os_type = models.SmallIntegerField(choices=OsType.choices, default=OsType.TYPE_UNSPECIFIED)
    created_at = models.DateTimeField(default=timezone.now)  # a default, so demo data can age
    name = models.CharField(max_length=63, blank=True, default="")
    description = models.CharField(max_length=256, blank=True, default="")
    labels = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "folder_id", "name"],
                condition=~Q(name=""),
                name="source_name_unique_in_folder",
            ),
        ]
        indexes = [
            # Disk and snapshot List pages, in each of their orders.
            models.Index(fields=["kind", "folder_id", "id"], name="source_folder_id"),
            models.Index(fields=["kind", "folder_id", "name", "id"], name="source_folder_name"),
            models.Index(fields=["kind", "folder_id", "created_at", "id"], name="source_folder_created"),
        ]


class Role(models.TextChoices):
    VIEWER = "viewer"
    EDITOR = "editor"


class ApiToken(models.Model):
    """A bearer token for the gRPC API; only its sha256 is stored."""

    name = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
