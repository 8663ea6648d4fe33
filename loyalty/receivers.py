"""Loyalty's answers to customers' signals (connected in LoyaltyConfig.ready)."""

from __future__ import annotations

from . import services


def earn_on_purchase(sender, purchase, by=None, **kwargs) -> None:
    services.earn_for_purchase(purchase, by=by)


def earn_on_bulk_purchases(sender, purchase_ids, by=None, **kwargs) -> None:
    services.earn_for_purchases(purchase_ids, by=by)


def reverse_on_refund(sender, purchase, by=None, **kwargs) -> None:
    services.reverse_for_refund(purchase, by=by)


def merge_on_customers_merged(sender, kept, merged, by=None, **kwargs) -> None:
    services.merge_memberships(kept=kept, merged=merged, by=by)
