"""Staff pages. Thin: forms validate, services change state, querysets read."""

from .customers import (
    CustomerCreateView,
    CustomerDetailView,
    CustomerListView,
    CustomerMergeView,
    CustomerUpdateView,
    NeedsFollowUpView,
)
from .exports import CustomerExportView, InteractionExportView, PurchaseExportView
from .followups import FollowUpCompleteView, FollowUpListView
from .history import (
    FeedbackCreateView,
    InteractionCreateView,
    PurchaseCreateView,
    PurchaseRefundView,
)
from .imports import ImportView
from .organize import (
    SegmentCreateView,
    SegmentDeleteView,
    SegmentDetailView,
    SegmentListView,
    TagDeleteView,
    TagListView,
    TagUpdateView,
)

__all__ = [
    "CustomerCreateView",
    "CustomerDetailView",
    "CustomerExportView",
    "CustomerListView",
    "CustomerMergeView",
    "CustomerUpdateView",
    "FeedbackCreateView",
    "FollowUpCompleteView",
    "FollowUpListView",
    "ImportView",
    "InteractionCreateView",
    "InteractionExportView",
    "NeedsFollowUpView",
    "PurchaseCreateView",
    "PurchaseExportView",
    "PurchaseRefundView",
    "SegmentCreateView",
    "SegmentDeleteView",
    "SegmentDetailView",
    "SegmentListView",
    "TagDeleteView",
    "TagListView",
    "TagUpdateView",
]
