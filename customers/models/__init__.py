"""Customers and their history: the data, its rules, and the QuerySets that read it.

Every change of state goes through ``customers.services``; the running figures on
Customer (first/last purchase, orders, total spent, last contact) are kept there.
"""

from .customer import (
    FUTURE_TOLERANCE,
    LIST_COLUMNS,
    Customer,
    CustomerQuerySet,
    Tag,
    digits_only,
    normalize_for_search,
)
from .history import (
    ConsentChange,
    Feedback,
    FollowUp,
    FollowUpQuerySet,
    Interaction,
    Purchase,
    TimelineQuerySet,
)
from .import_job import ImportJob
from .listing import ListedCustomer, attach_tag_names
from .merges import MergedCustomer
from .rights import ErasureRecord
from .segment import SavedSegment

__all__ = [
    "FUTURE_TOLERANCE",
    "LIST_COLUMNS",
    "ConsentChange",
    "Customer",
    "CustomerQuerySet",
    "ErasureRecord",
    "Feedback",
    "FollowUp",
    "FollowUpQuerySet",
    "ImportJob",
    "ListedCustomer",
    "MergedCustomer",
    "Interaction",
    "Purchase",
    "SavedSegment",
    "Tag",
    "TimelineQuerySet",
    "attach_tag_names",
    "digits_only",
    "normalize_for_search",
]
