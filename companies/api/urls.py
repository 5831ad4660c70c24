from django.urls import path

from companies.api.views import CompanyViewSet

urlpatterns = [
    path(
        "companies/",
        CompanyViewSet.as_view({"get": "list", "post": "create"}),
        name="company-list",
    ),
    path(
        "company/<uuid:pk>/",
        CompanyViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="company-detail",
    ),
]
