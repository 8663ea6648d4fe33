"""The customer page's empty forms are rendered once per process and kept."""

import pytest
from crispy_forms.utils import render_crispy_form
from django.contrib.auth.models import Group

from customers.forms import FeedbackForm, InteractionForm, PurchaseForm
from customers.roles import STAFF
from customers.templatetags import blank_forms

from .factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    blank_forms.clear()
    yield
    blank_forms.clear()


@pytest.mark.parametrize("form_class", [InteractionForm, PurchaseForm, FeedbackForm])
def test_kept_html_is_crispys_html(form_class, roles):
    first = blank_forms.render_blank_form(form_class())
    kept = blank_forms.render_blank_form(form_class())
    assert first == kept == render_crispy_form(form_class())
    assert 'type="submit"' in kept


def test_rendering_is_skipped_when_nothing_changed(roles, monkeypatch):
    blank_forms.render_blank_form(PurchaseForm())
    calls = []
    monkeypatch.setattr(
        blank_forms, "render_crispy_form", lambda form: calls.append(form) or ""
    )
    blank_forms.render_blank_form(PurchaseForm())
    assert calls == []


def test_a_new_staff_member_is_offered_at_once(roles):
    before = blank_forms.render_blank_form(InteractionForm())
    newcomer = UserFactory(username="newcomer")
    newcomer.groups.add(Group.objects.get(name=STAFF))
    after = blank_forms.render_blank_form(InteractionForm())
    assert "newcomer" not in before
    assert "newcomer" in after


def test_a_bound_form_is_rendered_with_its_errors_not_kept(roles):
    blank_forms.render_blank_form(PurchaseForm())
    bound = PurchaseForm(data={"amount": "-5"})
    assert not bound.is_valid()
    html = blank_forms.render_blank_form(bound)
    assert "invalid-feedback" in html
    assert "invalid-feedback" not in blank_forms.render_blank_form(PurchaseForm())


def test_initial_values_are_part_of_the_key(roles):
    plain = blank_forms.render_blank_form(PurchaseForm())
    with_initial = blank_forms.render_blank_form(
        PurchaseForm(initial={"channel": "shop-xyz"})
    )
    assert "shop-xyz" in with_initial
    assert "shop-xyz" not in plain


def test_customer_page_shows_the_forms(staff_client, roles):
    customer = CustomerFactory()
    for _ in range(2):
        page = staff_client.get(f"/customers/{customer.pk}/").content.decode()
        assert page.count('type="submit"') >= 3
        assert 'name="amount"' in page and 'name="score"' in page
