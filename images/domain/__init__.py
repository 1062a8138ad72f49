"""Business rules: services, the operation lifecycle, auth, errors; models or dataclasses in and out."""
