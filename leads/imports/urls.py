from django.urls import path

from leads.imports.api import (
    ImportFieldsView,
    ImportJobErrorsView,
    ImportJobView,
    ImportUploadView,
)

urlpatterns = [
    path("upload/", ImportUploadView.as_view(), name="lead-import-upload"),
    path("upload/fields/", ImportFieldsView.as_view(), name="lead-import-fields"),
    path("upload/<uuid:job_id>/", ImportJobView.as_view(), name="lead-import-detail"),
    path(
        "upload/<uuid:job_id>/errors.csv",
        ImportJobErrorsView.as_view(),
        name="lead-import-errors",
    ),
]
