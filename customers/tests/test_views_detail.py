"""A customer's page: profile, figures, and the timeline of their history."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import Feedback, Interaction, Purchase
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def detail(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def test_detail_shows_the_profile(staff_client, staff_user):
    customer = CustomerFactory(
        first_name="Zoë",
        last_name="Åberg",
        email="zoe@example.com",
        phone="+46 8 123 456",
        birthday=date(1990, 4, 2),
        reference="SHOP-17",
        owner=staff_user,
        notes="Prefers calls in the morning.",
    )
    customer.tags.add(TagFactory(name="VIP"))
    response = staff_client.get(detail(customer))
    page = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Zoë Åberg",
        "zoe@example.com",
        "+46 8 123 456",
        "2 April 1990",
        "SHOP-17",
        staff_user.username,
        "Prefers calls in the morning.",
        "VIP",
    ]:
        assert text in page


def test_detail_shows_the_figures(staff_client, staff_user):
    customer = CustomerFactory()
    for amount in ["10.00", "30.00"]:
        services.record_purchase(
            customer=customer, amount=amount, occurred_at=ago(days=1), by=staff_user
        )
    for score in [4, 5]:
        services.record_feedback(customer=customer, kind="csat", score=score)
    services.record_feedback(customer=customer, kind="nps", score=9)
    response = staff_client.get(detail(customer))
    shown = response.context["customer"]
    assert shown.orders_count == 2
    assert shown.total_spent == Decimal("40.00")
    assert shown.average_order == Decimal("20.00")
    assert response.context["average_csat"] == pytest.approx(4.5)
    page = response.content.decode()
    assert ">40.00<" in page  # total spent
    assert ">20.00<" in page  # average order
    assert "4.5 / 5" in page
    assert "9.0 / 10" in page


def test_figures_of_a_customer_with_no_history(staff_client):
    response = staff_client.get(detail(CustomerFactory()))
    assert response.context["average_csat"] is None
    page = response.content.decode()
    assert "never contacted" in page
    assert "Nothing has happened with this customer yet" in page


def test_detail_shows_last_personal_contact_and_last_automated_message_apart(
    staff_client, staff_user
):
    customer = CustomerFactory()
    called = services.log_interaction(
        customer=customer, kind="call", occurred_at=ago(days=40), by=staff_user
    )
    sent = services.log_interaction(
        customer=customer, kind="email", occurred_at=ago(days=1), automated=True
    )
    page = staff_client.get(detail(customer)).content.decode()
    personal = page.split('data-figure="last-personal-contact"')[1].split(
        "</div></div>"
    )[0]
    automated = page.split('data-figure="last-automated-message"')[1].split(
        "</div></div>"
    )[0]
    assert "Last personal contact" in personal
    assert f"{timezone.localdate(called.occurred_at):%Y-%m-%d}" in personal
    assert "40 days ago" in personal
    assert "Last automated message" in automated
    assert f"{timezone.localdate(sent.occurred_at):%Y-%m-%d}" in automated


def test_timeline_mixes_history_newest_first(staff_client, staff_user):
    customer = CustomerFactory()
    services.log_interaction(
        customer=customer,
        kind="call",
        subject="First call",
        occurred_at=ago(days=3),
        by=staff_user,
    )
    services.record_purchase(customer=customer, amount="12.50", occurred_at=ago(days=2))
    services.record_feedback(
        customer=customer,
        kind="csat",
        score=5,
        comment="Lovely",
        occurred_at=ago(days=1),
    )
    services.log_interaction(
        customer=customer, kind="email", subject="Thanks sent", by=staff_user
    )
    CustomerFactory()  # another customer's history is not shown
    response = staff_client.get(detail(customer))
    entries = list(response.context["timeline"])
    assert [e.kind for e in entries] == [
        "interaction",
        "feedback",
        "purchase",
        "interaction",
    ]
    assert entries[0].item.subject == "Thanks sent"
    assert entries[-1].item.subject == "First call"
    page = response.content.decode()
    timeline = page[page.index(">Timeline ") :]
    assert timeline.index("Thanks sent") < timeline.index("Lovely")
    assert timeline.index("Lovely") < timeline.index("12.50 EUR")
    assert timeline.index("12.50 EUR") < timeline.index("First call")


def test_timeline_shows_only_this_customers_history(staff_client):
    customer, other = CustomerFactory(), CustomerFactory()
    services.log_interaction(customer=other, kind="call", subject="Not theirs")
    services.log_interaction(customer=customer, kind="call", subject="Theirs")
    response = staff_client.get(detail(customer))
    assert "Theirs" in response.content.decode()
    assert "Not theirs" not in response.content.decode()


def add_history(customer, user, count: int) -> None:
    """count rows spread over interactions, purchases and feedback."""
    now = timezone.now()
    rows = {"interaction": [], "purchase": [], "feedback": []}
    for i in range(count):
        at = now - timedelta(hours=i + 1)
        if i % 3 == 0:
            rows["interaction"].append(
                Interaction(
                    customer=customer, subject=f"Call {i}", occurred_at=at, by=user
                )
            )
        elif i % 3 == 1:
            rows["purchase"].append(
                Purchase(
                    customer=customer, amount=Decimal("9.99"), occurred_at=at, by=user
                )
            )
        else:
            rows["feedback"].append(
                Feedback(
                    customer=customer, kind="nps", score=8, occurred_at=at, by=user
                )
            )
    Interaction.objects.bulk_create(rows["interaction"])
    Purchase.objects.bulk_create(rows["purchase"])
    Feedback.objects.bulk_create(rows["feedback"])


def test_timeline_has_25_a_page(staff_client, staff_user):
    customer = CustomerFactory()
    add_history(customer, staff_user, 30)
    first = staff_client.get(detail(customer))
    assert len(first.context["timeline"]) == 25
    assert first.context["timeline"].paginator.count == 30
    assert "Page 1 of 2" in first.content.decode()
    second = staff_client.get(detail(customer), {"page": 2})
    entries = list(second.context["timeline"])
    assert len(entries) == 5
    # The oldest row (Call 0 is the newest) ends the last page.
    assert entries[-1].occurred_at < list(first.context["timeline"])[-1].occurred_at


def test_timeline_pages_do_not_overlap(staff_client, staff_user):
    customer = CustomerFactory()
    add_history(customer, staff_user, 30)
    seen = []
    for page in (1, 2):
        response = staff_client.get(detail(customer), {"page": page})
        seen += [(e.kind, e.item.pk) for e in response.context["timeline"]]
    assert len(seen) == len(set(seen)) == 30


# Queries for the page, whatever the length of the history:
#   1 session (only when the cache misses it)
#   1 user with their groups                            (authentication, role)
#   1 the customer JOIN owner + 1 its tags
#   1 COUNT of the timeline + 1 its page                (UNION ALL of its sources)
#   1 average CSAT and NPS                              (one aggregate)
#   1 open follow-ups JOIN assignee
#   1 users for the follow-up assignee select
#   2 the loyalty card of a non-member                  (program, membership)
#   1 saved segments + 1 due follow-ups                 (navigation bar)
# = 13
DETAIL_QUERIES = 13


@pytest.mark.parametrize("rows", [5, 100])
def test_detail_queries_do_not_grow_with_history(
    staff_client, staff_user, django_assert_max_num_queries, rows
):
    customer = CustomerFactory(owner=staff_user)
    customer.tags.add(TagFactory(), TagFactory())
    add_history(customer, staff_user, rows)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = staff_client.get(detail(customer))
    assert len(response.context["timeline"]) == min(rows, 25)


def test_unknown_customer_is_not_found(staff_client):
    assert (
        staff_client.get(reverse("customers:detail", args=[999999])).status_code == 404
    )


def test_merge_link_is_for_owners_only(client, staff_user, owner_user):
    customer = CustomerFactory()
    merge = reverse("customers:merge", args=[customer.pk])
    client.force_login(staff_user)
    assert merge not in client.get(detail(customer)).content.decode()
    client.force_login(owner_user)
    assert merge in client.get(detail(customer)).content.decode()


def test_timeline_entries_show_who_and_what_can_still_be_refunded(
    staff_client, staff_user
):
    customer = CustomerFactory()
    services.log_interaction(
        customer=customer, kind="meeting", subject="Fitting", by=staff_user
    )
    part, _ = services.record_purchase(
        customer=customer, amount="40.00", occurred_at=ago(days=2), reference="R-1"
    )
    whole, _ = services.record_purchase(
        customer=customer, amount="10.00", occurred_at=ago(days=1), reference="R-2"
    )
    services.refund_purchase(purchase=part, amount="15.00")
    services.refund_purchase(purchase=whole)

    response = staff_client.get(detail(customer))
    entries = {
        e.item.pk: e for e in response.context["timeline"] if e.kind == "purchase"
    }
    assert entries[part.pk].item.net_amount == Decimal("25.00")
    assert entries[whole.pk].item.net_amount == Decimal("0.00")
    meeting = next(e for e in response.context["timeline"] if e.kind == "interaction")
    assert meeting.by == staff_user.username
    assert meeting.item.get_kind_display() == "Meeting"
    page = response.content.decode()
    refund = reverse("customers:purchase-refund", args=[customer.pk, part.pk])
    assert refund in page
    assert (
        reverse("customers:purchase-refund", args=[customer.pk, whole.pk]) not in page
    )
    assert "refunded 15.00" in page and "#R-2" in page
    assert f"· {staff_user.username}" in page


def test_timeline_entries_escape_every_value(staff_client, django_user_model):
    """Each source's entry template (customers/_timeline.html); nothing is raw."""
    evil = '<img src=x onerror="alert(1)">'
    author = django_user_model.objects.create(username="eve<b>")
    customer = CustomerFactory()
    services.log_interaction(
        customer=customer, kind="call", subject=evil, body=evil, by=author
    )
    purchase, _ = services.record_purchase(
        customer=customer,
        amount="1234.50",
        occurred_at=ago(hours=2),
        reference=f"R{evil}",
        channel=evil,
    )
    services.refund_purchase(purchase=purchase, amount="100.00")
    services.record_feedback(customer=customer, kind="csat", score=4, comment=evil)
    page = staff_client.get(detail(customer)).content.decode()
    timeline = page[page.index(">Timeline ") :]
    assert "<img" not in timeline
    assert timeline.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") == 5
    assert "eve&lt;b&gt;" in timeline
    assert "1,234.50 EUR" in timeline
    assert "refunded 100.00" in timeline
    refund = reverse("customers:purchase-refund", args=[customer.pk, purchase.pk])
    assert f'href="{refund}">Refund…' in timeline
    assert f'id="purchase-{purchase.pk}"' in timeline


def test_timeline_times_are_in_the_business_time_zone(staff_client, settings):
    """customers/_timeline.html writes each entry's minute (the strftime filter)
    in the time zone of the request, as the Python-built entries did."""
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+5:30
    customer = CustomerFactory()
    call = services.log_interaction(
        customer=customer,
        kind="call",
        subject="Late call",
        occurred_at=datetime(2024, 3, 1, 20, 45, tzinfo=UTC),
    )
    page = staff_client.get(detail(customer)).content.decode()
    assert (
        f'id="interaction-{call.pk}"><div class="small text-muted">2024-03-02 02:15'
        in page
    )
