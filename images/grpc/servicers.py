"""gRPC servicers: decode the request, call a service function, encode the result."""

from __future__ import annotations

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import (
    disk_service_pb2,
    disk_service_pb2_grpc,
    image_service_pb2,
    image_service_pb2_grpc,
    snapshot_service_pb2,
    snapshot_service_pb2_grpc,
)
from images.api.gen.yandex.cloud.operation import operation_service_pb2_grpc
from images.domain import images as services
from images.domain import lifecycle, operations, sources
from images.domain.families import families_list, image_list_with_latest
from images.grpc import convert
from images.grpc.interceptor import current
from images.rules import UPDATABLE_FIELDS
from images.store.models import SourceKind


class ImageServicer(image_service_pb2_grpc.ImageServiceServicer):
    def __init__(self, import_runner: services.ImportRunner):
        self.import_runner = import_runner

    def Get(self, request, context):
        return convert.image_to_proto(services.image_get(image_id=request.image_id))

    def GetLatestByFamily(self, request, context):
        return convert.image_to_proto(
            services.image_latest_by_family(folder_id=request.folder_id, family=request.family)
        )

    def List(self, request, context):
        images, next_token = services.image_list(
            folder_id=request.folder_id,
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            order_by=request.order_by,
        )
        return image_service_pb2.ListImagesResponse(
            images=[convert.image_to_proto(image) for image in images], next_page_token=next_token
        )

    def Create(self, request, context):
        call = current()
        kind = request.WhichOneof("source")
        source = None
        if kind is not None:
            source = services.ImageSource(kind.removesuffix("_id"), getattr(request, kind))
        operation = services.image_create(
            caller_id=call.caller.id,
            request=services.CreateImage(
                folder_id=request.folder_id,
                source=source,
                name=request.name,
                description=request.description,
                labels=dict(request.labels),
                family=request.family,
                min_disk_size=request.min_disk_size,
                product_ids=list(request.product_ids),
                os_type=request.os.type,
                pooled=request.pooled,
            ),
            idempotency_key=call.idempotency_key,
            import_runner=self.import_runner,
        )
        return convert.operation_to_proto(operation)

    def Update(self, request, context):
        call = current()
        mask = list(request.update_mask.paths) if request.HasField("update_mask") else []
        operation = services.image_update(
            caller_id=call.caller.id,
            image_id=request.image_id,
            update_mask=mask or None,
            values={
                path: dict(request.labels) if path == "labels" else getattr(request, path)
                for path in UPDATABLE_FIELDS
            },
            idempotency_key=call.idempotency_key,
        )
        return convert.operation_to_proto(operation)

    def Delete(self, request, context):
        call = current()
        operation = services.image_delete(
            caller_id=call.caller.id, image_id=request.image_id, idempotency_key=call.idempotency_key
        )
        return convert.operation_to_proto(operation)

    def ListOperations(self, request, context):
        rows, next_token = services.image_operations(
            image_id=request.image_id, page_size=request.page_size, page_token=request.page_token
        )
        return image_service_pb2.ListImageOperationsResponse(
            operations=[convert.operation_to_proto(row) for row in rows], next_page_token=next_token
        )


class OperationServicer(operation_service_pb2_grpc.OperationServiceServicer):
    def Get(self, request, context):
        return convert.operation_to_proto(operations.get(request.operation_id))

    def Cancel(self, request, context):
        return convert.operation_to_proto(lifecycle.cancel(request.operation_id))


class ExtensionServicer(extension_pb2_grpc.ImageExtensionServiceServicer):
    def ListFamilies(self, request, context):
        families, next_token = families_list(
            folder_id=request.folder_id,
            page_size=request.page_size,
            page_token=request.page_token,
            families=list(request.families),
        )
        return extension_pb2.ListFamiliesResponse(
            families=[convert.family_to_proto(family) for family in families], next_page_token=next_token
        )

    def BatchGetOperations(self, request, context):
        found = operations.batch_get(list(request.operation_ids))
        return extension_pb2.BatchGetOperationsResponse(
            operations=[convert.operation_with_progress(row) for row in found]
        )

    def ListFolderOperations(self, request, context):
        rows, next_token = operations.folder_operations(
            folder_id=request.folder_id,
            status=convert.folder_status(request.status),
            created_by=request.created_by,
            image_id=request.image_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return extension_pb2.ListFolderOperationsResponse(
            operations=[convert.operation_with_progress(row) for row in rows], next_page_token=next_token
        )

    def ListImages(self, request, context):
        page = image_list_with_latest(
            folder_id=request.folder_id,
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            order_by=request.order_by,
        )
        return extension_pb2.ListImagesWithLatestResponse(
            images=[convert.image_to_proto(image) for image in page.images],
            next_page_token=page.next_page_token,
            latest_image_ids=page.latest_image_ids,
        )


class DiskServicer(disk_service_pb2_grpc.DiskServiceServicer):
    def Get(self, request, context):
        return convert.disk_to_proto(sources.source_get(kind=SourceKind.DISK, source_id=request.disk_id))

    def List(self, request, context):
        rows, next_token = sources.source_list(
            kind=SourceKind.DISK,
            folder_id=request.folder_id,
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            order_by=request.order_by,
        )
        return disk_service_pb2.ListDisksResponse(
            disks=[convert.disk_to_proto(row) for row in rows], next_page_token=next_token
        )


class SnapshotServicer(snapshot_service_pb2_grpc.SnapshotServiceServicer):
    def Get(self, request, context):
        return convert.snapshot_to_proto(
            sources.source_get(kind=SourceKind.SNAPSHOT, source_id=request.snapshot_id)
        )

    def List(self, request, context):
        rows, next_token = sources.source_list(
            kind=SourceKind.SNAPSHOT,
            folder_id=request.folder_id,
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            order_by=request.order_by,
        )
        return snapshot_service_pb2.ListSnapshotsResponse(
            snapshots=[convert.snapshot_to_proto(row) for row in rows], next_page_token=next_token
        )
