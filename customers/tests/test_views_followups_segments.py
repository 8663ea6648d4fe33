"""Follow-ups (mine, completing one), needs follow-up, and saved segments."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.filters import segment_customers
from customers.models import FollowUp, Interaction, SavedSegment
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

FOLLOW_UPS = reverse("customers:follow-ups")
LIST = reverse("customers:list")


def follow_up(*, assignee, due_in_days: int, note: str, customer=None) -> FollowUp:
    interaction = services.log_interaction(
        customer=customer or CustomerFactory(),
        kind="call",
        subject=f"Call before: {note}",
        by=assignee,
        follow_up_on=timezone.localdate() + timedelta(days=due_in_days),
        follow_up_note=note,
    )
    return interaction.follow_ups.get()


# --- My follow-ups -------------------------------------------------------------


def test_my_follow_ups_lists_overdue_and_due_today(
    staff_client, staff_user, other_staff_user
):
    overdue = follow_up(assignee=staff_user, due_in_days=-2, note="Ring late")
    today = follow_up(assignee=staff_user, due_in_days=0, note="Ring today")
    later = follow_up(assignee=staff_user, due_in_days=5, note="Ring next week")
    follow_up(assignee=other_staff_user, due_in_days=0, note="Alex rings today")
    follow_up(assignee=other_staff_user, due_in_days=-1, note="Alex rings late")

    response = staff_client.get(FOLLOW_UPS)
    assert list(response.context["overdue"]) == [overdue]
    assert list(response.context["due_today"]) == [today]
    assert list(response.context["upcoming"]) == [later]
    page = response.content.decode()
    assert "Ring late" in page and "Ring today" in page
    assert "Alex rings" not in page
    assert page.index("Overdue") < page.index("Ring late") < page.index("Due today")


def test_a_long_overdue_list_shows_the_oldest_and_says_how_many(
    staff_client, staff_user, monkeypatch
):
    from customers.views import followups as views

    monkeypatch.setattr(views, "FOLLOW_UPS_SHOWN", 2)
    oldest = follow_up(assignee=staff_user, due_in_days=-30, note="Oldest")
    for days in range(1, 4):
        follow_up(assignee=staff_user, due_in_days=-days, note=f"Late {days}")
    response = staff_client.get(FOLLOW_UPS)
    assert list(response.context["overdue"])[0] == oldest
    assert len(response.context["overdue"]) == 2
    assert "(4; the oldest 2 shown)" in response.content.decode()


def test_done_follow_ups_are_not_listed(staff_client, staff_user):
    done = follow_up(assignee=staff_user, due_in_days=-1, note="Finished")
    services.complete_follow_up(
        follow_up=done, by=staff_user, kind="call", subject="Did it"
    )
    response = staff_client.get(FOLLOW_UPS)
    assert "Finished" not in response.content.decode()
    assert "Nothing to follow up" in response.content.decode()


def test_nav_counts_my_due_follow_ups(staff_client, staff_user, other_staff_user):
    follow_up(assignee=staff_user, due_in_days=-1, note="a")
    follow_up(assignee=staff_user, due_in_days=0, note="b")
    follow_up(assignee=staff_user, due_in_days=3, note="c")
    follow_up(assignee=other_staff_user, due_in_days=0, note="d")
    response = staff_client.get(FOLLOW_UPS)
    assert 'title="Overdue or due today">2</span>' in response.content.decode()


def complete_url(item: FollowUp) -> str:
    return reverse("customers:follow-up-complete", args=[item.pk])


def test_completing_a_follow_up_logs_the_interaction(staff_client, staff_user):
    item = follow_up(assignee=staff_user, due_in_days=0, note="Ring back")
    form = staff_client.get(complete_url(item))
    assert form.context["form"].initial["subject"] == "Ring back"

    response = staff_client.post(
        complete_url(item),
        {"kind": "call", "direction": "outbound", "subject": "Rang back"},
    )
    assert response.status_code == 302
    assert response["Location"] == FOLLOW_UPS
    item.refresh_from_db()
    assert item.completed_at is not None
    done = item.completed_by
    assert (done.subject, done.by, done.customer) == (
        "Rang back",
        staff_user,
        item.customer,
    )
    item.customer.refresh_from_db()
    assert item.customer.last_contact_at == done.occurred_at


def test_completing_twice_is_harmless(staff_client, staff_user):
    item = follow_up(assignee=staff_user, due_in_days=0, note="Ring back")
    data = {"kind": "call", "direction": "outbound", "subject": "Rang back"}
    staff_client.post(complete_url(item), data)
    interactions = Interaction.objects.count()

    response = staff_client.post(complete_url(item), data, follow=True)
    assert response.redirect_chain == [(FOLLOW_UPS, 302)]
    assert "That follow-up was already done." in response.content.decode()
    assert Interaction.objects.count() == interactions


def test_completing_with_bad_input_leaves_it_open(staff_client, staff_user):
    item = follow_up(assignee=staff_user, due_in_days=0, note="Ring back")
    interactions = Interaction.objects.count()
    response = staff_client.post(
        complete_url(item), {"kind": "call", "direction": "outbound", "subject": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["subject"]
    item.refresh_from_db()
    assert item.completed_at is None
    assert Interaction.objects.count() == interactions


def test_completing_can_ask_for_the_next_follow_up(staff_client, staff_user):
    item = follow_up(assignee=staff_user, due_in_days=0, note="Ring back")
    next_week = timezone.localdate() + timedelta(days=7)
    staff_client.post(
        complete_url(item),
        {
            "kind": "call",
            "direction": "outbound",
            "subject": "Rang back",
            "follow_up_on": next_week.isoformat(),
        },
    )
    assert list(FollowUp.objects.open().values_list("due_on", flat=True)) == [next_week]


# --- Needs follow-up -----------------------------------------------------------

NEEDS = reverse("customers:needs-follow-up")


def ago(days: int):
    return timezone.now() - timedelta(days=days)


def test_needs_follow_up_lists_the_longest_waiting_first(staff_client):
    CustomerFactory(first_name="35 days", last_contact_at=ago(35))
    CustomerFactory(first_name="60 days", last_contact_at=ago(60))
    CustomerFactory(first_name="Never, joined 45 days ago", created_at=ago(45))
    CustomerFactory(first_name="Recently", last_contact_at=ago(5))
    CustomerFactory(first_name="Never, joined today")

    response = staff_client.get(NEEDS)
    assert response.context["days"] == 30
    assert [c.first_name for c in response.context["customers"]] == [
        "60 days",
        "Never, joined 45 days ago",
        "35 days",
    ]
    assert "Recently" not in response.content.decode()


def test_needs_follow_up_takes_the_number_of_days(staff_client):
    CustomerFactory(first_name="35 days", last_contact_at=ago(35))
    CustomerFactory(first_name="60 days", last_contact_at=ago(60))
    response = staff_client.get(NEEDS, {"days": 50})
    assert [c.first_name for c in response.context["customers"]] == ["60 days"]


def test_needs_follow_up_links_each_row_to_the_customers_page(staff_client):
    """The rows are the list's (customers/_customer_table.html): the links are
    /customers/<id>/, not relative to this page."""
    waiting = CustomerFactory(last_contact_at=ago(40))
    page = staff_client.get(NEEDS).content.decode()
    assert f'<td><a href="{waiting.get_absolute_url()}">' in page


@pytest.mark.parametrize("days", ["abc", "-5", "0", "99999999"])
def test_needs_follow_up_survives_bad_days(staff_client, days):
    assert staff_client.get(NEEDS, {"days": days}).status_code == 200


def test_needs_follow_up_when_everyone_is_in_touch(staff_client):
    CustomerFactory(last_contact_at=ago(1))
    response = staff_client.get(NEEDS)
    assert "Everyone has been contacted in the last 30 days." in (
        response.content.decode()
    )


def test_logging_a_call_takes_a_customer_off_the_list(staff_client):
    customer = CustomerFactory(first_name="Waiting", last_contact_at=ago(40))
    assert [c.pk for c in staff_client.get(NEEDS).context["customers"]] == [customer.pk]
    services.log_interaction(customer=customer, kind="call", subject="Hello")
    assert not staff_client.get(NEEDS).context["customers"]


# --- Segments ------------------------------------------------------------------


def segment_create(query: str) -> str:
    return f"{reverse('customers:segment-create')}?{query}"


def test_save_the_lists_filters_as_a_segment(staff_client, staff_user):
    vip = TagFactory(name="VIP")
    response = staff_client.post(
        segment_create(f"tag={vip.pk}&opted_in=email&sort=name&page=2"),
        {"name": "VIPs by email"},
    )
    segment = SavedSegment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == segment.get_absolute_url()
    assert segment.name == "VIPs by email"
    assert segment.created_by == staff_user
    # The filters themselves, not the customers they matched today.
    assert segment.params == {"tag": vip.pk, "opted_in": "email"}


def test_segment_form_shows_the_filters_it_will_save(staff_client):
    response = staff_client.get(segment_create("q=zoe&no_contact_days=30"))
    assert response.context["filters"] == {"q": "zoe", "no_contact_days": 30}
    assert "<code>q=zoe</code>" in response.content.decode()


def test_saving_a_segment_needs_a_filter(staff_client):
    response = staff_client.post(segment_create(""), {"name": "Everyone"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Choose at least one filter on the list first."
    ]
    assert not SavedSegment.objects.exists()


def test_invalid_filters_are_not_saved(staff_client):
    response = staff_client.post(
        segment_create("tag=99999&no_contact_days=abc"), {"name": "Nothing"}
    )
    assert response.status_code == 200
    assert not SavedSegment.objects.exists()


def test_segment_name_must_be_new(staff_client, staff_user):
    services.save_segment(name="Lapsed", params={"no_purchase_days": 90}, by=staff_user)
    response = staff_client.post(
        segment_create("no_purchase_days=60"), {"name": "LAPSED"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "A segment with this name exists."
    ]
    assert SavedSegment.objects.count() == 1


def test_opening_a_segment_shows_the_list_with_its_filters(staff_client, staff_user):
    vip = TagFactory(name="VIP")
    segment = services.save_segment(
        name="VIPs", params={"tag": vip.pk, "q": "zoë"}, by=staff_user
    )
    response = staff_client.get(segment.get_absolute_url())
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == LIST
    assert parse_qs(location.query) == {
        "tag": [str(vip.pk)],
        "q": ["zoë"],
        "segment": [str(segment.pk)],
    }


def test_a_segment_follows_the_data(staff_client, staff_user):
    vip = TagFactory(name="VIP")
    ann = CustomerFactory(first_name="Ann")
    ann.tags.add(vip)
    bob = CustomerFactory(first_name="Bob")
    staff_client.post(segment_create(f"tag={vip.pk}"), {"name": "VIPs"})
    segment = SavedSegment.objects.get()

    response = staff_client.get(segment.get_absolute_url(), follow=True)
    assert [c.first_name for c in response.context["customers"]] == ["Ann"]
    assert "Segment: VIPs" in response.content.decode()

    bob.tags.add(vip)  # tagged after the segment was saved
    response = staff_client.get(segment.get_absolute_url(), follow=True)
    assert sorted(c.first_name for c in response.context["customers"]) == [
        "Ann",
        "Bob",
    ]
    assert sorted(c.first_name for c in segment_customers(segment)) == ["Ann", "Bob"]


def test_segment_delete_asks_first(staff_client, staff_user):
    segment = services.save_segment(
        name="Lapsed", params={"no_purchase_days": 90}, by=staff_user
    )
    url = reverse("customers:segment-delete", args=[segment.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "Delete Lapsed?" in response.content.decode()
    assert SavedSegment.objects.filter(pk=segment.pk).exists()

    response = staff_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:segments")
    assert not SavedSegment.objects.exists()


def test_segments_page_lists_them(staff_client, staff_user):
    services.save_segment(name="Lapsed", params={"no_purchase_days": 90}, by=staff_user)
    response = staff_client.get(reverse("customers:segments"))
    page = response.content.decode()
    assert "Lapsed" in page
    assert "<code>no_purchase_days=90</code>" in page


def test_nav_count_moves_with_the_day(staff_client, staff_user, monkeypatch):
    """The badge counts what is due by today: the next day's count is that day's."""
    follow_up(assignee=staff_user, due_in_days=0, note="today")
    follow_up(assignee=staff_user, due_in_days=2, note="later")
    badge = 'title="Overdue or due today">{}</span>'
    assert badge.format(1) in staff_client.get(FOLLOW_UPS).content.decode()
    in_two_days = timezone.localdate() + timedelta(days=2)
    monkeypatch.setattr(
        "customers.context_processors.timezone.localdate", lambda: in_two_days
    )
    assert badge.format(2) in staff_client.get(FOLLOW_UPS).content.decode()
