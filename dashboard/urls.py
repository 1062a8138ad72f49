"""URL routes of the dashboard: the folder is part of every folder-scoped URL."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path, register_converter

from dashboard import metrics
from dashboard.converters import IdConverter
from dashboard.views import (
    activity,
    auth,
    changes,
    export,
    families,
    images,
    operations,
    preferences,
    sources,
    status,
)

register_converter(IdConverter, "id")


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("", images.home, name="home"),
    path("folders/go", images.folder_pick, name="folder-pick"),
    path("f/<id:folder_id>/images/", images.image_list, name="image-list"),
    path("f/<id:folder_id>/images/export.<str:fmt>", export.image_export, name="image-export"),
    path("f/<id:folder_id>/images/new", changes.image_create, name="image-create"),
    path("f/<id:folder_id>/images/new/sources", sources.source_picker, name="source-picker"),
    path("f/<id:folder_id>/images/bulk-delete", changes.bulk_delete, name="image-bulk-delete"),
    path("f/<id:folder_id>/families/", families.family_list, name="family-list"),
    path("f/<id:folder_id>/families/<str:family>/", families.family_detail, name="family-detail"),
    path("f/<id:folder_id>/disks/", sources.disk_list, name="disk-list"),
    path("f/<id:folder_id>/snapshots/", sources.snapshot_list, name="snapshot-list"),
    path("f/<id:folder_id>/operations/", activity.folder_operations, name="folder-operations"),
    path("f/<id:folder_id>/operations/running", activity.running_count, name="folder-operations-count"),
    path("images/watch", images.image_watch, name="image-watch"),
    path("images/<id:image_id>/", images.image_detail, name="image-detail"),
    path("images/<id:image_id>/edit", changes.image_edit, name="image-edit"),
    path("images/<id:image_id>/edit/preview", changes.image_edit_preview, name="image-edit-preview"),
    path("images/<id:image_id>/edit/save", changes.image_edit_save, name="image-edit-save"),
    path("images/<id:image_id>/delete", changes.image_delete, name="image-delete"),
    path("preferences/", preferences.preferences_page, name="preferences"),
    path("preferences/theme", preferences.theme_set, name="preferences-theme"),
    path("preferences/columns", preferences.columns_set, name="preferences-columns"),
    path("f/<id:folder_id>/views/", preferences.view_save, name="view-save"),
    path("views/<int:view_id>/delete", preferences.view_delete, name="view-delete"),
    path("operations/", operations.operations_tray, name="operations-tray"),
    path("backend/probe", status.backend_probe, name="backend-probe"),
    path("operations/clear", operations.operations_clear, name="operations-clear"),
    path("operations/<id:operation_id>/cancel", operations.operation_cancel, name="operation-cancel"),
]
