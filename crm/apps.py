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

        from customers.hooks import register_nav_item

        # Imported for its side effect: the schema learns the token scheme.
        from .api import schema  # noqa: F401

        register_nav_item("API tokens", "api_tokens:list", owner_only=True, order=900)
        register_nav_item("Dashboard", "dashboard:index", owner_only=True, order=10)

        # Security: session limits and lockouts, and the audit trail, which is
        # part of a customer's data download and is wiped on erasure.
        from customers.hooks import register_actor_context, register_personal_data

        from .api.personal_data import erase_api_responses, export_api_responses
        from .audit import celery_origin  # noqa: F401  (connects task signals)
        from .audit.actor import acting_as
        from .audit.erasure import erase_audit_trail, export_audit_trail
        from .security import sessions, two_factor  # noqa: F401  (login receivers)
        from .team import passwords  # noqa: F401  (login receiver)

        register_nav_item("Security", "security:settings", owner_only=True, order=910)
        register_personal_data("audit", export_audit_trail, erase_audit_trail)
        register_personal_data(
            "api_responses", export_api_responses, erase_api_responses
        )
        # Imports name their user in the trail (customers cannot import crm).
        register_actor_context(acting_as)
