"""The commands: opening balances from a file, and the demo."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from loyalty.models import Membership

pytestmark = pytest.mark.django_db


def test_import_opening_balances_reports_rejected_rows_and_fails(program, tmp_path):
    CustomerFactory(reference="C-1")
    earned = timezone.localdate().isoformat()
    csv = tmp_path / "balances.csv"
    csv.write_text(
        f"customer;points;earned_at\nC-1;120;{earned}\nC-2;5;{earned}\n",
        encoding="utf-8",
    )
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_opening_balances", str(csv), stdout=out, stderr=err)
    assert failed.value.returncode == 1
    assert "line 3, column customer ('C-2')" in err.getvalue()
    assert "1 were created" in out.getvalue()
    assert Membership.objects.get(customer__reference="C-1").balance == 120


def test_seed_loyalty_demo_without_customers_enrols_nobody(db):
    out = StringIO()
    call_command("seed_loyalty_demo", stdout=out)
    assert "0 members" in out.getvalue()
    call_command("seed_loyalty_demo", stdout=out)
    assert Membership.objects.count() == 0
