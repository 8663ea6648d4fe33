from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from customers import signals as customer_signals

        from . import receivers

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
