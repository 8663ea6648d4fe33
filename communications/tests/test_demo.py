"""The demo outreach: templates and rules that plan follow-ups at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.demo import RULES, TEMPLATES, seed_outreach_demo
from communications.models import FollowUpRule, Message, MessageTemplate
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_demo_makes_valid_templates_and_rules_and_plans_at_once():
    CustomerFactory(email_opt_in=True, created_at=timezone.now() - timedelta(days=400))
    made = seed_outreach_demo()
    assert made == {"templates": len(TEMPLATES), "rules": len(RULES), "planned": 1}
    assert MessageTemplate.objects.count() == len(TEMPLATES)
    assert FollowUpRule.objects.active().count() == len(RULES)
    assert Message.objects.get().trigger == "check_in"


def test_the_demo_can_run_again_without_duplicates():
    seed_outreach_demo()
    assert seed_outreach_demo() == {"templates": 0, "rules": 0, "planned": 0}
    assert MessageTemplate.objects.count() == len(TEMPLATES)
