"""The one lock order for a customer's rows, and the functions that take it.

Every service that changes a customer's rows locks them in this order, and
never in another, so two services racing on the same customers wait for each
other instead of deadlocking:

1. the customers, in id order (``lock_customer`` / ``lock_customers``);
2. their own rows that a service changes: a purchase being refunded, a
   follow-up being completed;
3. their loyalty memberships, in id order (``loyalty.services.ledger``);
4. the memberships' points lots (changed only under the membership's lock);
5. shared rows last: a reward's stock, a redemption, a campaign.

Each lock is ``FOR NO KEY UPDATE``: no service changes a customer's or a
membership's id, and that mode lets another transaction insert a row that
points at the locked one (a points entry, an interaction) without waiting:
PostgreSQL's foreign-key check takes ``FOR KEY SHARE``, which ``FOR UPDATE``
would block. SQLite has no row locks; the whole database is one lock there.

docs/architecture.md draws the same order.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef

from .models import Customer, ErasureRecord


def lock_customer(customer: Customer | int) -> Customer:
    """The customer, locked (step 1) until the transaction ends.

    It comes with ``is_erased`` (in the same query), which the services that
    store something about a customer refuse.
    """
    customer_id = getattr(customer, "pk", customer)
    erasure = ErasureRecord.objects.filter(customer=OuterRef("pk"))
    return (
        Customer.objects.select_for_update(no_key=True)
        .annotate(is_erased=Exists(erasure))
        .get(pk=customer_id)
    )


def lock_customers(customer_ids: Iterable[int]) -> dict[int, Customer]:
    """The customers, locked in id order (step 1): id -> customer."""
    ids = sorted({int(pk) for pk in customer_ids})
    return {
        customer.pk: customer
        for customer in Customer.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
    }


def lock_customer_ids(customer_ids: Iterable[int]) -> list[int]:
    """Lock the customers in id order (step 1) without loading them."""
    ids = sorted({int(pk) for pk in customer_ids})
    return list(
        Customer.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
