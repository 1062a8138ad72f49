"""The backend: Yandex Cloud Compute ImageService and OperationService over gRPC."""
