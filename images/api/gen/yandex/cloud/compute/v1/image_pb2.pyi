import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Image(_message.Message):
    __slots__ = ("id", "folder_id", "created_at", "name", "description", "labels", "family", "storage_size", "min_disk_size", "product_ids", "status", "os", "pooled", "size")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Image.Status]
        CREATING: _ClassVar[Image.Status]
        READY: _ClassVar[Image.Status]
        ERROR: _ClassVar[Image.Status]
        DELETING: _ClassVar[Image.Status]
    STATUS_UNSPECIFIED: Image.Status
    CREATING: Image.Status
    READY: Image.Status
    ERROR: Image.Status
    DELETING: Image.Status
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
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    STORAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_DISK_SIZE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    POOLED_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    id: str
    folder_id: str
    created_at: _timestamp_pb2.Timestamp
    name: str
    description: str
    labels: _containers.ScalarMap[str, str]
    family: str
    storage_size: int
    min_disk_size: int
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    status: Image.Status
    os: Os
    pooled: bool
    size: int
    def __init__(self, id: _Optional[str] = ..., folder_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., family: _Optional[str] = ..., storage_size: _Optional[int] = ..., min_disk_size: _Optional[int] = ..., product_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[Image.Status, str]] = ..., os: _Optional[_Union[Os, _Mapping]] = ..., pooled: _Optional[bool] = ..., size: _Optional[int] = ...) -> None: ...

class Os(_message.Message):
    __slots__ = ("type",)
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TYPE_UNSPECIFIED: _ClassVar[Os.Type]
        LINUX: _ClassVar[Os.Type]
        WINDOWS: _ClassVar[Os.Type]
    TYPE_UNSPECIFIED: Os.Type
    LINUX: Os.Type
    WINDOWS: Os.Type
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: Os.Type
    def __init__(self, type: _Optional[_Union[Os.Type, str]] = ...) -> None: ...
