"""The backend app."""

from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "images"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The domain stores an operation's response as the wire message the gRPC edge encodes.
        from images.domain import lifecycle
        from images.grpc import convert

        lifecycle.set_response_encoder(convert.response_bytes)
