import os

from django.apps import AppConfig
from django.conf import settings


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        # kombu's filesystem transport needs its folders before the first
        # message, both in the web process (producer) and the worker.
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in (
            "data_folder_in",
            "data_folder_out",
            "processed_folder",
            "control_folder",
        ):
            if key in options:
                os.makedirs(options[key], exist_ok=True)
