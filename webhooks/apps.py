from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from changelog.services import on_events_recorded
        from webhooks.services import webhook_deliveries_create

        # In the recording transaction: a rolled-back change leaves no delivery behind.
        on_events_recorded(webhook_deliveries_create)
