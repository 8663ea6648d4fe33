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

        # Imported for their side effects: the schema learns the token scheme;
        # the rest connect signal receivers (docs/architecture.md lists them).
        from .api import schema  # noqa: F401
        from .audit import celery_origin  # noqa: F401  (task signals)
        from .security import sessions, two_factor  # noqa: F401  (login receivers)
        from .team import passwords  # noqa: F401  (login receiver)
