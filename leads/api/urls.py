"""Lead routes. Literal segments (comment/, attachment/) come before `<uuid:pk>/`; ids are
UUID-typed, so a malformed id is a 404 and never reaches a view."""

from django.urls import path

from leads.api.views import AttachmentViewSet, CommentViewSet, LeadViewSet

lead_collection = LeadViewSet.as_view({"get": "list", "post": "create"})
lead_detail = LeadViewSet.as_view(
    {
        "get": "retrieve",
        "put": "update",
        "patch": "partial_update",
        "delete": "destroy",
        "post": "add_activity",
    }
)
lead_convert = LeadViewSet.as_view({"post": "convert"})
lead_export = LeadViewSet.as_view({"get": "export"})
comment_detail = CommentViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
attachment_detail = AttachmentViewSet.as_view({"get": "retrieve", "delete": "destroy"})

urlpatterns = [
    path("", lead_collection, name="lead-list"),
    path("export/", lead_export, name="lead-export"),
    path("comment/<uuid:pk>/", comment_detail, name="lead-comment-detail"),
    path("attachment/<uuid:pk>/", attachment_detail, name="lead-attachment-detail"),
    path("<uuid:pk>/", lead_detail, name="lead-detail"),
    path("<uuid:pk>/convert/", lead_convert, name="lead-convert"),
]
