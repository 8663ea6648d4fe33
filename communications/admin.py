"""Read-mostly admin for outreach; Owners work in the outreach pages."""

from django.contrib import admin

from .models import Campaign, FollowUpRule, FrequencyPolicy, Message, MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "subject", "updated_at"]
    search_fields = ["name", "subject"]


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "days", "channel", "priority", "active"]
    list_filter = ["trigger", "channel", "active"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "send_at", "status", "recipients"]
    list_filter = ["status"]


@admin.register(FrequencyPolicy)
class FrequencyPolicyAdmin(admin.ModelAdmin):
    list_display = ["min_days_between", "max_per_30_days", "quiet_start", "quiet_end"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox is written by the planner and the sender only."""

    list_display = ["pk", "customer", "trigger", "channel", "status", "scheduled_for"]
    list_filter = ["status", "channel", "trigger"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "rule", "campaign", "template"]
    search_fields = ["key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
