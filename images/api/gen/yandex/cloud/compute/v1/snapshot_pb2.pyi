import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Snapshot(_message.Message):
    __slots__ = ("id", "folder_id", "created_at", "name", "description", "labels", "storage_size", "disk_size", "product_ids", "status", "source_disk_id")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Snapshot.Status]
        CREATING: _ClassVar[Snapshot.Status]
        READY: _ClassVar[Snapshot.Status]
        ERROR: _ClassVar[Snapshot.Status]
        DELETING: _ClassVar[Snapshot.Status]
    STATUS_UNSPECIFIED: Snapshot.Status
    CREATING: Snapshot.Status
    READY: Snapshot.Status
    ERROR: Snapshot.Status
    DELETING: Snapshot.Status
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
    STORAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    DISK_SIZE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_DISK_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    folder_id: str
    created_at: _timestamp_pb2.Timestamp
    name: str
    description: str
    labels: _containers.ScalarMap[str, str]
    storage_size: int
    disk_size: int
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    status: Snapshot.Status
    source_disk_id: str
    def __init__(self, id: _Optional[str] = ..., folder_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., storage_size: _Optional[int] = ..., disk_size: _Optional[int] = ..., product_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[Snapshot.Status, str]] = ..., source_disk_id: _Optional[str] = ...) -> None: ...
