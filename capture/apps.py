from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "capture"
    verbose_name = "Website lead capture"

    def ready(self):
        from capture.logging import install_scrub_filter

        install_scrub_filter()
