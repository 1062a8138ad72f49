"""Persistent state of the backend: images, operations, idempotency keys, sources, API tokens."""

from __future__ import annotations

from django.db import models
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

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["folder_id", "name"], condition=~Q(name=""), name="image_name_unique_in_folder"
            ),
        ]
        indexes = [
            # List: default order (id) needs only the primary key within a folder.
            models.Index(fields=["folder_id", "id"], name="image_folder_id"),
            models.Index(fields=["folder_id", "name", "id"], name="image_folder_name"),
            models.Index(fields=["folder_id", "created_at", "id"], name="image_folder_created"),
            # GetLatestByFamily and the family views.
            models.Index(
                fields=["folder_id", "family", "status", "created_at", "id"], name="image_family_latest"
            ),
            models.Index(fields=["blob"], name="image_blob"),
        ]


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
