"""Every change of state to customers and their history.

Each function runs in one transaction, locks the customer whose running figures it
changes, and writes the history row with the acting user. Other apps react through
``customers.signals``.
"""

from .history import complete_follow_up, log_interaction, record_feedback
from .merging import merge_customers
from .profile import (
    CONSENT_FIELDS,
    ERASED_REFUSAL,
    PROFILE_FIELDS,
    CustomerErased,
    FollowUpAlreadyDone,
    PurchaseReferenceConflict,
    create_customer,
    create_tag,
    delete_segment,
    delete_tag,
    rename_tag,
    save_segment,
    update_customer,
)
from .purchases import recalculate_figures, record_purchase, refund_purchase

__all__ = [
    "CONSENT_FIELDS",
    "ERASED_REFUSAL",
    "PROFILE_FIELDS",
    "CustomerErased",
    "FollowUpAlreadyDone",
    "PurchaseReferenceConflict",
    "complete_follow_up",
    "create_customer",
    "create_tag",
    "delete_segment",
    "delete_tag",
    "log_interaction",
    "merge_customers",
    "recalculate_figures",
    "record_feedback",
    "record_purchase",
    "refund_purchase",
    "rename_tag",
    "save_segment",
    "update_customer",
]
