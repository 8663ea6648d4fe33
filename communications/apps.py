from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    verbose_name = "Communications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from customers.hooks import (
            register_demo_seeder,
            register_nav_item,
            register_personal_data,
        )
        from customers.signals import customers_merged
        from customers.timeline import TimelineSource, register_timeline_source

        from . import personal_data, receivers
        from .models import TimelineMessage
        from .tracking import on_anymail_tracking

        register_timeline_source(
            "message",
            TimelineSource(
                TimelineMessage,
                {
                    "t_kind": "trigger",
                    "t_direction": "status",
                    "t_subject": "subject",
                    "t_body": "reason",
                    "t_channel": "channel",
                },
                template="communications/_timeline_message.html",
                occurred_at="finished_at",
                by=None,
            ),
        )
        register_personal_data(
            "messages", personal_data.export_messages, personal_data.erase_messages
        )
        register_nav_item("Outreach", "communications:outbox", order=60)
        # After loyalty's (order 10): the first plan sees the demo members.
        register_demo_seeder("communications", seed_outreach_demo_summary, order=20)
        customers_merged.connect(
            receivers.move_messages, dispatch_uid="communications-merge"
        )
        tracking.connect(
            on_anymail_tracking, dispatch_uid="communications-anymail-tracking"
        )


def seed_outreach_demo_summary(seed: int) -> str:
    from .demo import seed_outreach_demo

    made = seed_outreach_demo()
    return (
        f"Outreach: {made.get('templates', 0)} templates, {made.get('rules', 0)} "
        f"rules, {made.get('planned', 0)} messages planned."
    )
