from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Literal lead routes (companies, upload, create-from-site) come before `leads/<id>/`.
    path("api/", include("capture.api.urls")),
    path("api/", include("leads.api.assignment_rule_urls")),
    path("api/", include("changelog.api.urls")),
    path("api/leads/", include("leads.imports.urls")),
    path("api/leads/", include("companies.api.urls")),
    path("api/leads/", include("leads.api.urls")),
    path("api/webhooks/", include("webhooks.api.urls")),
    path("api/", include("common.api.urls")),
    path("api/", include("accounts.api.urls")),
]

handler404 = "common.api.errors.not_found_view"
handler500 = "common.api.errors.server_error_view"
