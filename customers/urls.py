from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("export.csv", views.CustomerExportView.as_view(), name="export"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("import/<int:pk>/", views.ImportJobView.as_view(), name="import-job"),
    path(
        "import/<int:pk>/progress/",
        views.ImportJobProgressView.as_view(),
        name="import-job-progress",
    ),
    path(
        "purchases/export.csv",
        views.PurchaseExportView.as_view(),
        name="purchase-export",
    ),
    path(
        "interactions/export.csv",
        views.InteractionExportView.as_view(),
        name="interaction-export",
    ),
    path("needs-follow-up/", views.NeedsFollowUpView.as_view(), name="needs-follow-up"),
    path("follow-ups/", views.FollowUpListView.as_view(), name="follow-ups"),
    path(
        "follow-ups/<int:pk>/complete/",
        views.FollowUpCompleteView.as_view(),
        name="follow-up-complete",
    ),
    path("tags/", views.TagListView.as_view(), name="tags"),
    path("tags/<int:pk>/edit/", views.TagUpdateView.as_view(), name="tag-edit"),
    path("tags/<int:pk>/delete/", views.TagDeleteView.as_view(), name="tag-delete"),
    path("segments/", views.SegmentListView.as_view(), name="segments"),
    path("segments/new/", views.SegmentCreateView.as_view(), name="segment-create"),
    path(
        "segments/<int:pk>/", views.SegmentDetailView.as_view(), name="segment-detail"
    ),
    path(
        "segments/<int:pk>/delete/",
        views.SegmentDeleteView.as_view(),
        name="segment-delete",
    ),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="edit"),
    path("<int:pk>/merge/", views.CustomerMergeView.as_view(), name="merge"),
    path("<int:pk>/data.json", views.CustomerDataView.as_view(), name="data-export"),
    path("<int:pk>/erase/", views.CustomerEraseView.as_view(), name="erase"),
    path(
        "<int:pk>/interactions/new/",
        views.InteractionCreateView.as_view(),
        name="interaction-create",
    ),
    path(
        "<int:pk>/purchases/new/",
        views.PurchaseCreateView.as_view(),
        name="purchase-create",
    ),
    path(
        "<int:pk>/purchases/<int:purchase_pk>/refund/",
        views.PurchaseRefundView.as_view(),
        name="purchase-refund",
    ),
    path(
        "<int:pk>/feedback/new/",
        views.FeedbackCreateView.as_view(),
        name="feedback-create",
    ),
]
