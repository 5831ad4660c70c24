from django.apps import AppConfig


class LeadImportsConfig(AppConfig):
    name = "leads.imports"
    label = "lead_imports"
    verbose_name = "Bulk lead imports"
