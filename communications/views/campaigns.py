"""Campaigns (Owners): plan, preview the audience and the message, cancel, send."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, ListView, TemplateView

from customers.roles import OwnerRequiredMixin
from customers.views.base import ServiceFormMixin

from .. import services
from ..forms import CampaignForm, PolicyForm
from ..models import Campaign, FrequencyPolicy, Status
from ..planner import campaign_audience
from .rules import preview


class CampaignListView(OwnerRequiredMixin, ListView):
    template_name = "communications/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 50

    def get_queryset(self):
        return Campaign.objects.select_related("template", "segment").order_by(
            "-send_at", "-pk"
        )


class CampaignFormView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    form_class = CampaignForm
    template_name = "communications/form.html"

    @cached_property
    def campaign(self) -> Campaign | None:
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(Campaign, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        if self.campaign is not None and not self.campaign.can_cancel:
            messages.info(request, "This campaign has started; it cannot change.")
            return redirect(self.campaign)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.campaign is not None:
            kwargs["instance"] = Campaign.objects.get(pk=self.campaign.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        title = f"Campaign: {self.campaign}" if self.campaign else "New campaign"
        return super().get_context_data(
            title=title, cancel_url="communications:campaigns", **kwargs
        )

    def form_valid(self, form):
        return self.call_service(
            form,
            services.save_campaign,
            message="Campaign {result} was saved. Check its audience and preview.",
            redirect_to=lambda campaign: campaign,
            campaign=self.campaign,
            by=self.request.user,
            **form.cleaned_data,
        )


class CampaignDetailView(OwnerRequiredMixin, DetailView):
    """The audience count before it goes, a preview, and its messages after."""

    template_name = "communications/campaign_detail.html"
    context_object_name = "campaign"

    def get_queryset(self):
        return Campaign.objects.select_related("template", "segment", "created_by")

    def get_context_data(self, **kwargs):
        campaign = self.object
        context = {}
        if campaign.can_cancel:
            audience = campaign_audience(campaign)
            context["audience_count"] = audience.count()
            example = audience.order_by("pk").first()
            context["preview_customer"] = example
            context["preview"] = preview(campaign.template, example)
        else:
            context["status_counts"] = (
                campaign.messages.values("status")
                .annotate(n=Count("pk"))
                .order_by("status")
            )
            context["status_labels"] = dict(Status.choices)
        return super().get_context_data(**context, **kwargs)


class CampaignActionView(OwnerRequiredMixin, TemplateView):
    """GET asks to confirm; POST cancels the campaign or starts it now."""

    template_name = "communications/campaign_confirm.html"
    action = ""

    def dispatch(self, request, *args, **kwargs):
        self.campaign = get_object_or_404(Campaign, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            campaign=self.campaign,
            action=self.action,
            audience_count=campaign_audience(self.campaign).count()
            if self.campaign.can_cancel
            else None,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            if self.action == "cancel":
                services.cancel_campaign(campaign=self.campaign, by=request.user)
                messages.success(request, f"Campaign {self.campaign} was cancelled.")
            else:
                count = services.send_campaign_now(campaign=self.campaign)
                messages.success(
                    request,
                    f"Campaign {self.campaign} started: {count} messages are "
                    "queued and go out within a minute, as the frequency policy "
                    "allows.",
                )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(self.campaign)


class CampaignCancelView(CampaignActionView):
    action = "cancel"


class CampaignSendNowView(CampaignActionView):
    action = "send"


class PolicyView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    """The frequency policy: caps, quiet hours and the attribution window."""

    form_class = PolicyForm
    template_name = "communications/policy.html"
    extra_context = {"time_zone": settings.TIME_ZONE}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": FrequencyPolicy.current()}

    def form_valid(self, form):
        return self.call_service(
            form,
            services.save_policy,
            message="The frequency policy was saved.",
            redirect_to="communications:policy",
            **form.cleaned_data,
        )
