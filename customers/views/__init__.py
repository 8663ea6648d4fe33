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
from .imports import ImportJobProgressView, ImportJobView, ImportView
from .organize import (
    SegmentCreateView,
    SegmentDeleteView,
    SegmentDetailView,
    SegmentListView,
    TagDeleteView,
    TagListView,
    TagUpdateView,
)
from .rights import CustomerDataView, CustomerEraseView

__all__ = [
    "CustomerCreateView",
    "CustomerDataView",
    "CustomerEraseView",
    "CustomerDetailView",
    "CustomerExportView",
    "CustomerListView",
    "CustomerMergeView",
    "CustomerUpdateView",
    "FeedbackCreateView",
    "FollowUpCompleteView",
    "FollowUpListView",
    "ImportJobProgressView",
    "ImportJobView",
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
