"""`make run`'s demo as a whole: customers, then loyalty, then outreach.

After seed_demo the program has members whose balances agree with the ledger,
outreach rules exist and have planned their first messages, and the owners'
dashboard tells a story on the same data.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from communications.models import FollowUpRule, Message
from loyalty.models import Membership, PointsEntry

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_every_app_and_the_ledger_audits_clean(owner_client):
    out = StringIO()
    call_command("seed_demo", customers=60, seed=2, stdout=out)
    text = out.getvalue()
    assert "Loyalty:" in text and "Outreach:" in text
    assert Membership.objects.exists() and PointsEntry.objects.exists()
    assert FollowUpRule.objects.filter(active=True).exists()
    assert Message.objects.exists()  # the first plan ran

    audit = StringIO()
    call_command("loyalty_audit", stdout=audit)  # raises on any mismatch
    for url in (
        reverse("dashboard:index"),
        reverse("loyalty:overview"),
        reverse("communications:outbox"),
    ):
        assert owner_client.get(url).status_code == 200, url
