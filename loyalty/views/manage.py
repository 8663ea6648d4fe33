"""The Owner's pages: overview, program rules, tiers, rewards, opening balances."""

from __future__ import annotations

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView, TemplateView

from customers.csv_input import CsvFileError
from customers.roles import OwnerRequiredMixin
from customers.views.base import ConfirmDeleteView, ServiceFormMixin

from .. import metrics, services
from ..forms import OpeningBalancesForm, PeriodForm, ProgramForm, RewardForm, TierForm
from ..imports import OpeningBalanceImporter
from ..models import Program, Reward, Tier


class OverviewView(OwnerRequiredMixin, TemplateView):
    template_name = "loyalty/overview.html"

    def get_context_data(self, **kwargs):
        form = PeriodForm(self.request.GET or None)
        start, end = form.period()
        if not form.is_bound:
            form = PeriodForm(initial={"start": start, "end": end})
        return super().get_context_data(
            form=form,
            program=Program.current(),
            figures=metrics.overview(start, end),
            **kwargs,
        )


class ProgramView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    form_class = ProgramForm
    template_name = "loyalty/program_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Program.current()}

    def form_valid(self, form):
        return self.call_service(
            form,
            services.save_program,
            message="The program's rules were saved.",
            redirect_to="loyalty:program",
            by=self.request.user,
            **form.cleaned_data,
        )


class TierListView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    """The tiers with their members, and a form to add one."""

    form_class = TierForm
    template_name = "loyalty/tier_list.html"

    def get_context_data(self, **kwargs):
        tiers = Tier.objects.annotate(member_count=Count("memberships"))
        return super().get_context_data(
            tiers=tiers, program=Program.current(), **kwargs
        )

    def form_valid(self, form):
        return self.call_service(
            form,
            services.create_tier,
            message="Tier {result} was added; members move into it tonight or "
            "with their next purchase.",
            redirect_to="loyalty:tiers",
            **form.cleaned_data,
        )


class TierUpdateView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    form_class = TierForm
    template_name = "customers/action_form.html"

    @cached_property
    def tier(self) -> Tier:
        return get_object_or_404(Tier, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "instance": Tier.objects.get(pk=self.tier.pk),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Edit tier {self.tier}", **kwargs)

    def form_valid(self, form):
        return self.call_service(
            form,
            services.update_tier,
            message="Tier {result} was saved.",
            redirect_to="loyalty:tiers",
            tier=self.tier,
            **form.cleaned_data,
        )


class TierDeleteView(OwnerRequiredMixin, ConfirmDeleteView):
    model = Tier
    success_url_name = "loyalty:tiers"
    extra_context = {
        "consequence": "Its members move to the tier their last 12 months reach."
    }

    def delete(self) -> str:
        services.delete_tier(tier=self.object)
        return f"Tier {self.object} was deleted."


class RewardListView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    """The catalogue with how often each reward was redeemed, and a form to add."""

    form_class = RewardForm
    template_name = "loyalty/reward_list.html"

    def get_context_data(self, **kwargs):
        rewards = Reward.objects.annotate(
            redeemed_count=Count("redemptions", filter=Q(redemptions__status="issued"))
        )
        return super().get_context_data(rewards=rewards, **kwargs)

    def form_valid(self, form):
        return self.call_service(
            form,
            services.create_reward,
            message="Reward {result.name} was added.",
            redirect_to="loyalty:rewards",
            **form.cleaned_data,
        )


class RewardUpdateView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    form_class = RewardForm
    template_name = "customers/action_form.html"

    @cached_property
    def reward(self) -> Reward:
        return get_object_or_404(Reward, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "instance": Reward.objects.get(pk=self.reward.pk),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Edit reward {self.reward.name}", **kwargs
        )

    def form_valid(self, form):
        return self.call_service(
            form,
            services.update_reward,
            message="Reward {result.name} was saved.",
            redirect_to="loyalty:rewards",
            reward=self.reward,
            **form.cleaned_data,
        )


class OpeningBalancesView(OwnerRequiredMixin, View):
    """Upload a CSV of opening balances; a dry run shows every row's fate first."""

    template_name = "loyalty/opening_balances.html"

    def get(self, request):
        return render(request, self.template_name, {"form": OpeningBalancesForm()})

    def post(self, request):
        form = OpeningBalancesForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            importer = OpeningBalanceImporter(
                by=request.user, dry_run=form.cleaned_data["dry_run"]
            )
            try:
                report = importer.run(form.cleaned_data["file"])
            except CsvFileError as error:
                form.add_error("file", str(error))
        return render(request, self.template_name, {"form": form, "report": report})
