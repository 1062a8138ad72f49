"""Where Django looks for the app's models; they live in the store layer (images/store/models.py)."""

from images.store.models import (  # noqa: F401
    ApiToken,
    IdempotencyKey,
    Image,
    ImageLabel,
    Operation,
    Source,
)
