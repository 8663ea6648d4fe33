from django.contrib import admin

from .models import (
    ConsentChange,
    Customer,
    Feedback,
    FollowUp,
    Interaction,
    Purchase,
    SavedSegment,
    Tag,
)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "email",
        "phone",
        "orders_count",
        "total_spent",
        "last_purchase_at",
    ]
    search_fields = ["search_text", "reference"]
    list_filter = ["tags", "email_opt_in", "sms_opt_in"]
    autocomplete_fields = ["tags"]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "first_purchase_at",
        "last_purchase_at",
        "orders_count",
        "total_spent",
        "last_contact_at",
        "last_automated_at",
        "email_opt_in_at",
        "email_opt_in_source",
        "sms_opt_in_at",
        "sms_opt_in_source",
    ]
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "direction", "subject", "occurred_at", "by"]
    list_filter = ["kind", "direction"]
    raw_id_fields = ["customer", "by"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["customer", "due_on", "assignee", "completed_at"]
    raw_id_fields = ["customer", "origin", "completed_by", "assignee"]


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    """Read-mostly: purchases change through the staff pages so figures stay right."""

    list_display = [
        "customer",
        "amount",
        "refunded_amount",
        "currency",
        "reference",
        "occurred_at",
    ]
    search_fields = ["reference"]
    raw_id_fields = ["customer", "by"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["refunded_amount", "refunded_at"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "score", "occurred_at"]
    list_filter = ["kind", "score"]
    raw_id_fields = ["customer", "by"]


@admin.register(ConsentChange)
class ConsentChangeAdmin(admin.ModelAdmin):
    list_display = ["customer", "channel", "opted_in", "source", "at", "by"]
    raw_id_fields = ["customer", "by"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SavedSegment)
class SavedSegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created_at"]
