from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    verbose_name = "Communications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from customers.signals import customers_merged

        from . import receivers
        from .tracking import on_anymail_tracking

        customers_merged.connect(
            receivers.move_messages, dispatch_uid="communications-merge"
        )
        tracking.connect(
            on_anymail_tracking, dispatch_uid="communications-anymail-tracking"
        )
