from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Organizations, users and shared objects"

    def ready(self):
        from common.api import strict

        strict.install()
