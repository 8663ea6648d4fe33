"""Read-only admin views of the loyalty data.

Every change goes through loyalty.services (the Owner's pages): the ledger is
append-only and balances move only with it, so the admin shows and never edits.
"""

from django.contrib import admin

from .models import (
    Membership,
    PointsEntry,
    Program,
    Redemption,
    Reward,
    Tier,
    TierChange,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = ["name", "is_active", "earn_rate", "expiry_months", "updated_at"]


@admin.register(Tier)
class TierAdmin(ReadOnlyAdmin):
    list_display = ["name", "threshold", "multiplier"]


@admin.register(Reward)
class RewardAdmin(ReadOnlyAdmin):
    list_display = ["name", "cost", "stock", "is_active"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["customer", "balance", "tier", "enrolled_at"]
    list_select_related = ["customer", "tier"]
    list_filter = ["tier"]
    search_fields = ["customer__search_text", "customer__reference"]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "customer",
        "kind",
        "points",
        "remaining",
        "expires_on",
    ]
    list_select_related = ["customer"]
    list_filter = ["kind"]
    search_fields = ["customer__search_text", "customer__reference"]
    raw_id_fields = ["membership", "customer", "purchase", "lot", "redemption", "by"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["code", "reward", "membership", "points", "status", "created_at"]
    list_select_related = ["reward", "membership__customer"]
    list_filter = ["status", "reward"]
    search_fields = ["code"]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "membership", "old_name", "new_name", "qualifying"]
    list_select_related = ["membership__customer"]
