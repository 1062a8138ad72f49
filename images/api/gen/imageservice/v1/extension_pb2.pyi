import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_pb2 as _image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as _image_service_pb2
from images.api.gen.yandex.cloud.operation import operation_pb2 as _operation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListFamiliesRequest(_message.Message):
    __slots__ = ("folder_id", "page_size", "page_token", "families")
    FOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FAMILIES_FIELD_NUMBER: _ClassVar[int]
    folder_id: str
    page_size: int
    page_token: str
    families: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, folder_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., families: _Optional[_Iterable[str]] = ...) -> None: ...

class Family(_message.Message):
    __slots__ = ("name", "latest_image", "image_count", "last_change_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LATEST_IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGE_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    latest_image: _image_pb2.Image
    image_count: int
    last_change_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., latest_image: _Optional[_Union[_image_pb2.Image, _Mapping]] = ..., image_count: _Optional[int] = ..., last_change_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListFamiliesResponse(_message.Message):
    __slots__ = ("families", "next_page_token")
    FAMILIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    families: _containers.RepeatedCompositeFieldContainer[Family]
    next_page_token: str
    def __init__(self, families: _Optional[_Iterable[_Union[Family, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BatchGetOperationsRequest(_message.Message):
    __slots__ = ("operation_ids",)
    OPERATION_IDS_FIELD_NUMBER: _ClassVar[int]
    operation_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, operation_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class OperationProgress(_message.Message):
    __slots__ = ("bytes_done", "bytes_total", "phase")
    BYTES_DONE_FIELD_NUMBER: _ClassVar[int]
    BYTES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    bytes_done: int
    bytes_total: int
    phase: str
    def __init__(self, bytes_done: _Optional[int] = ..., bytes_total: _Optional[int] = ..., phase: _Optional[str] = ...) -> None: ...

class OperationWithProgress(_message.Message):
    __slots__ = ("operation", "progress")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    operation: _operation_pb2.Operation
    progress: OperationProgress
    def __init__(self, operation: _Optional[_Union[_operation_pb2.Operation, _Mapping]] = ..., progress: _Optional[_Union[OperationProgress, _Mapping]] = ...) -> None: ...

class BatchGetOperationsResponse(_message.Message):
    __slots__ = ("operations",)
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    operations: _containers.RepeatedCompositeFieldContainer[OperationWithProgress]
    def __init__(self, operations: _Optional[_Iterable[_Union[OperationWithProgress, _Mapping]]] = ...) -> None: ...

class ListFolderOperationsRequest(_message.Message):
    __slots__ = ("folder_id", "page_size", "page_token", "status", "created_by", "image_id")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[ListFolderOperationsRequest.Status]
        RUNNING: _ClassVar[ListFolderOperationsRequest.Status]
        DONE: _ClassVar[ListFolderOperationsRequest.Status]
        FAILED: _ClassVar[ListFolderOperationsRequest.Status]
    STATUS_UNSPECIFIED: ListFolderOperationsRequest.Status
    RUNNING: ListFolderOperationsRequest.Status
    DONE: ListFolderOperationsRequest.Status
    FAILED: ListFolderOperationsRequest.Status
    FOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    folder_id: str
    page_size: int
    page_token: str
    status: ListFolderOperationsRequest.Status
    created_by: str
    image_id: str
    def __init__(self, folder_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[ListFolderOperationsRequest.Status, str]] = ..., created_by: _Optional[str] = ..., image_id: _Optional[str] = ...) -> None: ...

class ListFolderOperationsResponse(_message.Message):
    __slots__ = ("operations", "next_page_token")
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    operations: _containers.RepeatedCompositeFieldContainer[OperationWithProgress]
    next_page_token: str
    def __init__(self, operations: _Optional[_Iterable[_Union[OperationWithProgress, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListImagesWithLatestResponse(_message.Message):
    __slots__ = ("images", "next_page_token", "latest_image_ids")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LATEST_IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[_image_pb2.Image]
    next_page_token: str
    latest_image_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, images: _Optional[_Iterable[_Union[_image_pb2.Image, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., latest_image_ids: _Optional[_Iterable[str]] = ...) -> None: ...
