"""Hooks for other apps (loyalty, communications) to react to customers' history.

customers imports neither of those apps; they connect receivers here instead.
Every signal is sent inside the transaction that made the change, so a receiver's
own writes commit or roll back with it. A receiver that enqueues Celery work must
do so with ``delay_on_commit`` (or ``transaction.on_commit``).
"""

from django.dispatch import Signal

# purchase_recorded(sender=Purchase, purchase, by): a new purchase was stored
# (never sent again for a re-recorded reference).
purchase_recorded = Signal()

# purchase_refunded(sender=Purchase, purchase, amount, by): `amount` of the
# purchase was refunded; purchase.refunded_amount already includes it.
purchase_refunded = Signal()

# customers_merged(sender=Customer, kept, merged, by): `merged` is about to be
# deleted; receivers move whatever of theirs points at it onto `kept`.
customers_merged = Signal()

# purchases_bulk_recorded(sender=Purchase, purchase_ids, by): a bulk import stored
# these purchases (and updated the customers' running figures set-wise) without
# calling record_purchase per row. Receivers react set-wise (e.g. one INSERT ...
# SELECT earning points for every member's purchase), never row by row.
purchases_bulk_recorded = Signal()
