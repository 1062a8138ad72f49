"""The web dashboard: Django project settings and the views that call the backend over gRPC."""
