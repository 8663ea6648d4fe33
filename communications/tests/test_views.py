"""Outreach pages: bad input is refused beside the field and saves nothing;
previews, counts, filters, cancel and send-now, the timeline."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communications.delivery import Delivery
from communications.models import (
    Campaign,
    FollowUpRule,
    FrequencyPolicy,
    Message,
    MessageTemplate,
    Status,
)
from communications.sender import send_message
from customers import services as customer_services

from .helpers import NOW, consenting_customer, make_rule, make_template, queue_message

pytestmark = pytest.mark.django_db


def errors_of(response, field):
    return response.context["form"].errors.get(field, [])


def test_a_template_with_a_syntax_error_is_refused_beside_the_field(owner_client):
    response = owner_client.post(
        reverse("communications:template-create"),
        {"name": "Bad", "channel": "email", "subject": "Hi", "body_text": "{% if %}"},
    )
    assert response.status_code == 200
    assert "Template syntax error" in errors_of(response, "body_text")[0]
    assert not MessageTemplate.objects.exists()


def test_a_template_with_an_unknown_variable_is_refused(owner_client):
    response = owner_client.post(
        reverse("communications:template-create"),
        {
            "name": "Bad",
            "channel": "email",
            "subject": "Hi {{ customer.owner.password }}",
            "body_text": "x",
        },
    )
    assert "Unknown variable {{ customer }}" in errors_of(response, "subject")[0]
    assert not MessageTemplate.objects.exists()


def test_a_good_template_is_saved_and_previewed_for_a_customer(owner_client):
    response = owner_client.post(
        reverse("communications:template-create"),
        {
            "name": "Hello",
            "channel": "email",
            "subject": "Hi {{ first_name }}",
            "body_text": "Dear {{ first_name }} {{ last_name }}",
            "body_html": "<p>{{ first_name }}</p>",
        },
    )
    template = MessageTemplate.objects.get()
    assert response.status_code == 302
    customer = consenting_customer(first_name="Ingrid", last_name="<b>x</b>")
    url = reverse("communications:template-preview", args=[template.pk])
    preview = owner_client.get(url, {"customer": customer.email})
    assert b"Dear Ingrid &lt;b&gt;x&lt;/b&gt;" in preview.content
    example = owner_client.get(url)
    assert b"Dear Ana Example" in example.content
    missing = owner_client.get(url, {"customer": "nobody@nowhere"})
    assert b"No customer has this id" in missing.content


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"days": "-1"}, "days", "greater than or equal to 0"),
        ({"template": ""}, "template", "required"),
        ({"channel": "sms"}, "template", "Choose a SMS template"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_bad_rules_are_refused_beside_the_field(owner_client, change, field, message):
    template = make_template()
    data = {
        "name": "Check in",
        "trigger": "check_in",
        "days": "30",
        "channel": "email",
        "template": template.pk,
        "active": "on",
        **change,
    }
    response = owner_client.post(reverse("communications:rule-create"), data)
    assert response.status_code == 200
    assert any(message in error for error in errors_of(response, field))
    assert not FollowUpRule.objects.exists()


def test_a_new_rule_takes_its_trigger_s_priority_and_shows_its_reach(owner_client):
    template = make_template()
    for _ in range(2):
        consenting_customer(created_at=timezone.now() - timedelta(days=100))
    response = owner_client.post(
        reverse("communications:rule-create"),
        {
            "name": "Check in",
            "trigger": "check_in",
            "days": "30",
            "channel": "email",
            "template": template.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = FollowUpRule.objects.get()
    assert rule.priority == 80
    listing = owner_client.get(reverse("communications:rules"))
    assert listing.context["rules"][0].reach == 2


def campaign_data(template, **change):
    return {
        "name": "Summer sale",
        "template": template.pk,
        "everyone": "on",
        "send_at": (timezone.localtime() + timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "priority": "50",
        **change,
    }


def test_a_campaign_set_in_the_past_is_refused(owner_client):
    template = make_template()
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(
        reverse("communications:campaign-create"),
        campaign_data(template, send_at=past),
    )
    assert response.status_code == 200
    assert errors_of(response, "send_at") == ["Choose a time in the future."]
    assert not Campaign.objects.exists()


def test_a_campaign_needs_an_audience(owner_client):
    data = campaign_data(make_template())
    del data["everyone"]
    response = owner_client.post(reverse("communications:campaign-create"), data)
    assert errors_of(response, "segment") == ["Choose a segment, or send to everyone."]
    assert not Campaign.objects.exists()


def test_a_campaign_shows_its_audience_and_preview_then_can_be_cancelled(
    owner_client,
):
    for _ in range(3):
        consenting_customer(first_name="Maud")
    consenting_customer(email_opt_in=False)
    owner_client.post(
        reverse("communications:campaign-create"), campaign_data(make_template())
    )
    campaign = Campaign.objects.get()
    detail = owner_client.get(campaign.get_absolute_url())
    assert detail.context["audience_count"] == 3
    assert b"Hello Maud" in detail.content
    cancel = reverse("communications:campaign-cancel", args=[campaign.pk])
    assert b"Yes, cancel it" in owner_client.get(cancel).content
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED  # GET changed nothing
    owner_client.post(cancel)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    # Once cancelled it cannot be sent.
    owner_client.post(reverse("communications:campaign-send-now", args=[campaign.pk]))
    assert not Message.objects.exists()


def test_send_now_writes_the_messages_and_then_it_cannot_be_cancelled(owner_client):
    for _ in range(2):
        consenting_customer()
    owner_client.post(
        reverse("communications:campaign-create"), campaign_data(make_template())
    )
    campaign = Campaign.objects.get()
    owner_client.post(reverse("communications:campaign-send-now", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.STARTED
    assert Message.objects.filter(campaign=campaign).count() == 2
    response = owner_client.post(
        reverse("communications:campaign-cancel", args=[campaign.pk]), follow=True
    )
    assert b"can no longer be cancelled" in response.content
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.STARTED


def test_the_policy_page_saves_and_refuses_a_zero_cap(owner_client):
    url = reverse("communications:policy")
    data = {
        "min_days_between": "2",
        "max_per_30_days": "6",
        "quiet_start": "21:00",
        "quiet_end": "07:30",
        "attribution_days": "10",
    }
    assert owner_client.post(url, data).status_code == 302
    policy = FrequencyPolicy.current()
    assert (policy.min_days_between, policy.max_per_30_days) == (2, 6)
    response = owner_client.post(url, {**data, "max_per_30_days": "0"})
    assert response.status_code == 200
    assert errors_of(response, "max_per_30_days")
    assert FrequencyPolicy.current().max_per_30_days == 6


def test_the_outbox_filters_and_shows_a_message_s_body(
    owner_client, no_quiet_hours, django_assert_max_num_queries
):
    now = timezone.now() - timedelta(minutes=1)
    email_rule = make_rule("check_in", 30)
    sms_rule = make_rule("birthday", 0, channel="sms")
    sent = queue_message(
        consenting_customer(first_name="Otto"), now=now, rule=email_rule
    )
    send_message(sent.pk, Delivery())
    queue_message(consenting_customer(), now=now, rule=sms_rule, channel="sms")
    for _ in range(20):
        queue_message(
            consenting_customer(), now=now + timedelta(days=3), rule=email_rule
        )
    url = reverse("communications:outbox")
    # session, user, groups, nav segments, status counts, page count, page rows,
    # filter choices (rules, campaigns)
    with django_assert_max_num_queries(12):
        response = owner_client.get(url)
    assert response.context["page_obj"].paginator.count == 22
    assert (
        owner_client.get(url, {"status": "sent"}).context["page_obj"].paginator.count
        == 1
    )
    assert (
        owner_client.get(url, {"channel": "sms"}).context["page_obj"].paginator.count
        == 1
    )
    assert (
        owner_client.get(url, {"rule": sms_rule.pk}).context["page_obj"].paginator.count
        == 1
    )
    later = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert (
        owner_client.get(url, {"date_from": later}).context["page_obj"].paginator.count
        == 20
    )
    detail = owner_client.get(reverse("communications:message-detail", args=[sent.pk]))
    assert b"Hello Otto" in detail.content
    assert b"/unsubscribe/" in detail.content


def test_the_timeline_shows_sent_and_skipped_messages(staff_client, no_quiet_hours):
    now = timezone.now() - timedelta(minutes=1)
    customer = consenting_customer()
    sent = queue_message(customer, now=now)
    send_message(sent.pk, Delivery())
    skipped = queue_message(customer, now=now, rule=make_rule("birthday", 0))
    customer_services.update_customer(customer=customer, email_opt_in=False)
    send_message(skipped.pk, Delivery())
    response = staff_client.get(customer.get_absolute_url())
    content = response.content.decode()
    assert "Hello" in content and "Outbound" in content  # the sent one
    assert f'id="message-{skipped.pk}"' in content
    assert "Email skipped" in content and "not consented" in content
    assert f'id="message-{sent.pk}"' not in content  # shown once, as the interaction


def test_an_owner_resolves_a_message_to_reconcile(owner_client):
    message = queue_message(consenting_customer(), now=NOW)
    Message.objects.filter(pk=message.pk).update(
        status=Status.RECONCILE, claimed_at=NOW, to_address="a@example.com"
    )
    url = reverse("communications:message-resolve", args=[message.pk])
    assert b"mark it sent" in owner_client.get(url).content
    owner_client.post(url, {"action": "sent"})
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.customer.interactions.count() == 1


def test_the_next_14_days_count_what_rules_make_due(owner_client):
    rule = make_rule("birthday", 0)
    in_three_days = timezone.localdate() + timedelta(days=3)
    consenting_customer(birthday=date(1990, in_three_days.month, in_three_days.day))
    response = owner_client.get(reverse("communications:upcoming"))
    row = next(r for r in response.context["forecast"].rules if r.label == rule.name)
    assert row.counts[3] == 1 and row.total == 1


def test_deleting_a_template_in_use_is_refused(owner_client):
    rule = make_rule("check_in", 30)
    url = reverse("communications:template-delete", args=[rule.template.pk])
    response = owner_client.post(url, follow=True)
    assert b"Rules or campaigns use this template" in response.content
    assert MessageTemplate.objects.filter(pk=rule.template.pk).exists()


def test_deleting_a_rule_skips_its_queued_messages(owner_client):
    message = queue_message(consenting_customer(), now=NOW)
    owner_client.post(reverse("communications:rule-delete", args=[message.rule.pk]))
    message.refresh_from_db()
    assert message.status == Status.SKIPPED
    assert message.rule is None


def test_editing_a_rule_keeps_its_trigger_s_priority_when_left_empty(owner_client):
    rule = make_rule("birthday", 0, priority=5)
    response = owner_client.post(
        reverse("communications:rule-edit", args=[rule.pk]),
        {
            "name": rule.name,
            "trigger": "birthday",
            "days": "1",
            "channel": "email",
            "template": rule.template.pk,
            "priority": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.days, rule.priority) == (1, 10)


def test_the_next_14_days_show_what_is_planned(owner_client):
    rule = make_rule("check_in", 30)
    queue_message(consenting_customer(), now=timezone.now() - timedelta(days=1))
    queue_message(
        consenting_customer(), now=timezone.now() + timedelta(days=2), rule=rule
    )
    forecast = owner_client.get(reverse("communications:upcoming")).context["forecast"]
    planned = {row.label: row.counts for row in forecast.planned}
    assert planned[rule.name][2] == 1
    assert sum(sum(counts) for counts in planned.values()) == 2


def test_the_birthday_forecast_is_one_query_and_keeps_29_february(
    django_assert_num_queries,
):
    from communications.forecast import birthday_counts
    from customers.models import Customer

    consenting_customer(birthday=date(2000, 2, 29))
    consenting_customer(birthday=date(1990, 3, 1))
    days = [date(2023, 2, 27) + timedelta(days=offset) for offset in range(14)]
    with django_assert_num_queries(1):
        counts = birthday_counts(Customer.objects.all(), days, 0)
    assert counts[:3] == [0, 1, 1]  # 28 Feb (for the 29th), then 1 March
    assert sum(counts) == 2
