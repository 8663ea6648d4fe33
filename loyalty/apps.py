from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from customers import hooks
        from customers import signals as customer_signals
        from customers.timeline import TimelineSource, register_timeline_source

        from . import receivers
        from .data_rights import erase_loyalty, export_loyalty
        from .models import PointsEntry
        from .panel import loyalty_panel

        # Every purchase earns through record_purchase's signal or the bulk
        # import's; refunds and merges follow the customers' own services.
        customer_signals.purchase_recorded.connect(
            receivers.earn_on_purchase, dispatch_uid="loyalty-earn"
        )
        customer_signals.purchases_bulk_recorded.connect(
            receivers.earn_on_bulk_purchases, dispatch_uid="loyalty-earn-bulk"
        )
        customer_signals.purchase_refunded.connect(
            receivers.reverse_on_refund, dispatch_uid="loyalty-reverse"
        )
        customer_signals.customers_merged.connect(
            receivers.merge_on_customers_merged, dispatch_uid="loyalty-merge"
        )

        hooks.register_customer_panel(
            "loyalty", "loyalty/_panel.html", loyalty_panel, order=10
        )
        register_timeline_source(
            "points",
            TimelineSource(
                PointsEntry,
                {"t_kind": "kind", "t_score": "points", "t_body": "reason"},
                template="loyalty/_timeline_points.html",
            ),
        )
        hooks.register_nav_item("Loyalty", "loyalty:overview", owner_only=True)
        hooks.register_personal_data("loyalty", export_loyalty, erase_loyalty)
        # seed_demo: a program, tiers, rewards and members on the demo customers.
        hooks.register_demo_seeder("loyalty", seed_loyalty_demo_summary, order=10)


def seed_loyalty_demo_summary(seed: int) -> str:
    from .demo import seed_loyalty_demo

    made = seed_loyalty_demo(seed)
    if made.skipped:
        return "Loyalty: members exist already; no demo members added."
    return (
        f"Loyalty: {made.members} members, {made.points_earned} points earned, "
        f"{made.points_expired} expired, {made.redemptions} redemptions."
    )
