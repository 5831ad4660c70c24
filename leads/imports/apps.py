from django.apps import AppConfig


class LeadImportsConfig(AppConfig):
    name = "leads.imports"
    label = "lead_imports"
    verbose_name = "Bulk lead imports"

    def ready(self):
        from leads.imports import shutdown  # noqa: F401 - connects the worker shutdown signal
