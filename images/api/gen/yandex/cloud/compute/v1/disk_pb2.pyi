import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Disk(_message.Message):
    __slots__ = ("id", "folder_id", "created_at", "name", "description", "labels", "type_id", "zone_id", "size", "block_size", "product_ids", "status", "source_image_id", "source_snapshot_id", "instance_ids")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Disk.Status]
        CREATING: _ClassVar[Disk.Status]
        READY: _ClassVar[Disk.Status]
        ERROR: _ClassVar[Disk.Status]
        DELETING: _ClassVar[Disk.Status]
    STATUS_UNSPECIFIED: Disk.Status
    CREATING: Disk.Status
    READY: Disk.Status
    ERROR: Disk.Status
    DELETING: Disk.Status
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    FOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    BLOCK_SIZE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_IDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    folder_id: str
    created_at: _timestamp_pb2.Timestamp
    name: str
    description: str
    labels: _containers.ScalarMap[str, str]
    type_id: str
    zone_id: str
    size: int
    block_size: int
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    status: Disk.Status
    source_image_id: str
    source_snapshot_id: str
    instance_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., folder_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., type_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., size: _Optional[int] = ..., block_size: _Optional[int] = ..., product_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[Disk.Status, str]] = ..., source_image_id: _Optional[str] = ..., source_snapshot_id: _Optional[str] = ..., instance_ids: _Optional[_Iterable[str]] = ...) -> None: ...
