"""API messages turned into plain objects templates can show (and sessions can keep)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import grpc
from google.protobuf import timestamp_pb2

from images.api.gen.yandex.cloud.compute.v1 import image_pb2, image_service_pb2

STATUS_NAMES = {value: name for name, value in image_pb2.Image.Status.items()}
OS_NAMES = {image_pb2.Os.LINUX: "Linux", image_pb2.Os.WINDOWS: "Windows"}
_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}

_METADATA_KINDS: dict[
    str,
    tuple[
        str,
        type[
            image_service_pb2.CreateImageMetadata
            | image_service_pb2.UpdateImageMetadata
            | image_service_pb2.DeleteImageMetadata
        ],
    ],
] = {
    image_service_pb2.CreateImageMetadata.DESCRIPTOR.full_name: (
        "create",
        image_service_pb2.CreateImageMetadata,
    ),
    image_service_pb2.UpdateImageMetadata.DESCRIPTOR.full_name: (
        "update",
        image_service_pb2.UpdateImageMetadata,
    ),
    image_service_pb2.DeleteImageMetadata.DESCRIPTOR.full_name: (
        "delete",
        image_service_pb2.DeleteImageMetadata,
    ),
}


def timestamp(value: timestamp_pb2.Timestamp) -> dt.datetime | None:
    if value.seconds == 0 and value.nanos == 0:
        return None
    return value.ToDatetime(tzinfo=dt.UTC)


@dataclass
class ImageView:
    id: str
    folder_id: str
    name: str
    description: str
    family: str
    labels: dict[str, str]
    status: str
    os: str
    storage_size: int
    min_disk_size: int
    size: int
    product_ids: list[str]
    pooled: bool
    created_at: dt.datetime | None

    @classmethod
    def from_proto(cls, image: image_pb2.Image) -> ImageView:
        return cls(
            id=image.id,
            folder_id=image.folder_id,
            name=image.name,
            description=image.description,
            family=image.family,
            labels=dict(sorted(image.labels.items())),
            status=STATUS_NAMES.get(image.status, "STATUS_UNSPECIFIED"),
            os=OS_NAMES.get(image.os.type, ""),
            storage_size=image.storage_size,
            min_disk_size=image.min_disk_size,
            size=image.size,
            product_ids=list(image.product_ids),
            pooled=image.pooled,
            created_at=timestamp(image.created_at),
        )

    @classmethod
    def unknown(cls, image_id: str, folder_id: str) -> ImageView:
        """An image known only by its id, for a page shown while the backend cannot be asked."""
        return cls(image_id, folder_id, "", "", "", {}, "STATUS_UNSPECIFIED", "", 0, 0, 0, [], False, None)

    @property
    def title(self) -> str:
        return self.name or self.id

    @property
    def busy(self) -> bool:
        return self.status in ("CREATING", "DELETING")

    def editable(self) -> dict:
        """The fields Update can change, as plain values (for fingerprints and diffs)."""
        return {
            "name": self.name,
            "description": self.description,
            "min_disk_size": self.min_disk_size,
            "labels": dict(self.labels),
        }

    def comparable(self) -> dict:
        """What a family timeline compares between consecutive versions."""
        return {
            "description": self.description,
            "labels": dict(self.labels),
            "min_disk_size": self.min_disk_size,
            "storage_size": self.storage_size,
            "product_ids": list(self.product_ids),
            "os": self.os,
        }


@dataclass
class Progress:
    bytes_done: int = 0
    bytes_total: int = 0
    phase: str = ""

    @property
    def percent(self) -> int | None:
        if self.bytes_total <= 0:
            return None
        return min(100, int(self.bytes_done * 100 / self.bytes_total))


@dataclass
class OperationView:
    id: str
    description: str
    created_by: str
    created_at: dt.datetime | None
    modified_at: dt.datetime | None
    done: bool
    state: str  # running | done | failed | cancelled
    error: str = ""
    error_code: str = ""
    kind: str = ""  # create | update | delete | "" (unknown metadata)
    image_id: str = ""
    image_name: str = ""  # what the dashboard knew when it started the operation
    progress: Progress | None = None

    @classmethod
    def from_proto(cls, operation, progress=None, *, image_name: str = "") -> OperationView:
        kind, image_id = "", ""
        type_name = operation.metadata.type_url.rpartition("/")[2]
        if type_name in _METADATA_KINDS:
            kind, message_class = _METADATA_KINDS[type_name]
            metadata = message_class()
            if operation.metadata.Unpack(metadata):
                image_id = metadata.image_id
        error, error_code, state = "", "", "running"
        if operation.done:
            state = "done"
            if operation.HasField("error"):
                code = operation.error.code
                error_code = _CODE_NAMES.get(code, str(code))
                state = "cancelled" if code == grpc.StatusCode.CANCELLED.value[0] else "failed"
                error = operation.error.message
        return cls(
            id=operation.id,
            description=operation.description,
            created_by=operation.created_by,
            created_at=timestamp(operation.created_at),
            modified_at=timestamp(operation.modified_at),
            done=operation.done,
            state=state,
            error=error,
            error_code=error_code,
            kind=kind,
            image_id=image_id,
            image_name=image_name,
            progress=Progress(progress.bytes_done, progress.bytes_total, progress.phase)
            if progress
            else None,
        )

    @property
    def running(self) -> bool:
        return not self.done

    def elapsed(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        if self.created_at is None:
            return None
        end = self.modified_at if self.done and self.modified_at else (now or dt.datetime.now(dt.UTC))
        return max(end - self.created_at, dt.timedelta(0))

    def to_session(self) -> dict:
        data = asdict(self)
        for key in ("created_at", "modified_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_session(cls, data: dict) -> OperationView:
        data = dict(data)
        data.pop("extra", None)  # kept by sessions saved before the field was dropped
        for key in ("created_at", "modified_at"):
            data[key] = dt.datetime.fromisoformat(data[key]) if data.get(key) else None
        data["progress"] = Progress(**data["progress"]) if data.get("progress") else None
        return cls(**data)
