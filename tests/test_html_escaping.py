"""Text people type reaches the page escaped by Django's templates: the customer
list's rows and filter form, every timeline source's entry, the two-factor QR
code and the unsubscribe footer of an HTML message.

Each payload is looked for, escaped as django.utils.html.escape makes it, inside
the element that shows it, and the page must not hold it raw: a value printed
unescaped, or escaped twice, fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from communications.delivery import Delivery
from communications.models import FrequencyPolicy, Message, Status
from communications.sender import send_message
from communications.tests.helpers import (
    consenting_customer,
    make_rule,
    make_template,
    queue_message,
)
from crm.security import two_factor
from customers import services
from customers.models import Customer
from customers.tests.factories import CustomerFactory, TagFactory, UserFactory
from customers.timeline import SOURCES
from loyalty import services as loyalty_services
from loyalty.tests.factories import run_program

pytestmark = pytest.mark.django_db

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
LIST = reverse("customers:list")


def row_of(page: str, customer: Customer) -> str:
    """The list's <tr> that links to the customer."""
    link = page.index(f'href="{customer.get_absolute_url()}"')
    return page[page.rindex("<tr>", 0, link) : page.index("</tr>", link)]


def entry_of(page: str, kind: str, pk: int) -> str:
    """One timeline entry's markup, up to the next entry or the pagination."""
    start = page.index(f'<div class="timeline-entry {kind} mb-3" id="{kind}-{pk}">')
    ends = [
        i
        for i in (
            page.find('<div class="timeline-entry ', start + 1),
            page.find("</nav>", start),
            page.find("</body>", start),
        )
        if i != -1
    ]
    return page[start : min(ends)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_list_rows_escape_names_contacts_tags_and_owners(staff_client, payload):
    owner = UserFactory(username=f"o{payload}")
    customer = CustomerFactory(
        first_name=payload, last_name="", phone=payload, owner=owner
    )
    customer.tags.add(TagFactory(name=f"t{payload}"))
    page = staff_client.get(LIST).content.decode()
    assert payload not in page
    row = row_of(page, customer)
    assert f">{escape(payload)}</a></td>" in row  # the name
    assert f"<td>{escape(payload)}</td>" in row  # the phone
    tag = f'<span class="badge text-bg-secondary me-1">t{escape(payload)}</span>'
    assert tag in row
    assert f"<td>o{escape(payload)}</td>" in row  # the owner


@pytest.mark.parametrize("payload", PAYLOADS)
def test_filter_form_escapes_what_was_asked_and_the_choices(staff_client, payload):
    tag = TagFactory(name=f"t{payload}")
    owner = UserFactory(username=f"o{payload}")
    page = staff_client.get(
        LIST,
        {"q": payload, "tag": tag.pk, "owner": owner.pk, "no_contact_days": payload},
    ).content.decode()
    start = page.index('<form method="get"')
    form = page[start : page.index("</form>", start)]
    assert payload not in page
    assert f'name="q" id="id_q" value="{escape(payload)}"' in form
    assert f'<option value="{tag.pk}" selected>t{escape(payload)}</option>' in form
    assert f'<option value="{owner.pk}" selected>o{escape(payload)}</option>' in form
    assert f'id="id_no_contact_days" value="{escape(payload)}"' in form


def _interaction(customer, payload, author) -> list[tuple[int, list[str]]]:
    item = services.log_interaction(
        customer=customer, kind="call", subject=payload, body=payload, by=author
    )
    return [(item.pk, [f"<strong>{escape(payload)}</strong>", escape(payload)])]


def _purchase(customer, payload, author) -> list[tuple[int, list[str]]]:
    item, _ = services.record_purchase(
        customer=customer,
        amount="12.00",
        occurred_at=timezone.now() - timedelta(minutes=5),
        reference=f"R{payload}",
        channel=payload,
        by=author,
    )
    return [(item.pk, [f"#R{escape(payload)}</small>", f"· {escape(payload)}</small>"])]


def _feedback(customer, payload, author) -> list[tuple[int, list[str]]]:
    item = services.record_feedback(
        customer=customer, kind="csat", score=3, comment=payload, by=author
    )
    return [(item.pk, [f"— {escape(payload)}</div>"])]


def _points(customer, payload, author) -> list[tuple[int, list[str]]]:
    run_program()
    author.is_superuser = True  # an Owner adjusts points
    author.save(update_fields=["is_superuser"])
    loyalty_services.enroll(customer)
    item = loyalty_services.adjust(customer, 7, reason=payload, by=author)
    return [(item.pk, [f"· {escape(payload)}</small>", "+7</strong> adjusted"])]


def _message(customer, payload, author) -> list[tuple[int, list[str]]]:
    now = timezone.now() - timedelta(minutes=1)
    item = queue_message(
        customer,
        now=now,
        rule=make_rule("check_in", 30),
        status=Status.SKIPPED,
        finished_at=now,
        subject=payload,
        reason=payload,
    )
    return [(item.pk, [f"<strong>{escape(payload)}</strong>", escape(payload)])]


# One maker per timeline source: a source registered later must be added here.
MAKERS: dict[str, Callable] = {
    "interaction": _interaction,
    "purchase": _purchase,
    "feedback": _feedback,
    "points": _points,
    "message": _message,
}


def test_every_timeline_source_has_an_escaping_check():
    assert set(MAKERS) == set(SOURCES)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_each_timeline_source_escapes_its_text(staff_client, kind, payload):
    author = UserFactory(username=f"u{payload}")
    customer = CustomerFactory()
    made = MAKERS[kind](customer, payload, author)
    page = staff_client.get(customer.get_absolute_url()).content.decode()
    assert payload not in page
    for pk, wanted in made:
        entry = entry_of(page, kind, pk)
        for text in wanted:
            assert text in entry, (kind, text, entry)
        if kind not in ("message",):  # messages have no author
            assert f"· u{escape(payload)}</div>" in entry


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_two_factor_qr_code_holds_no_text(payload):
    """The one mark_safe of a page (crm.security.views): qrcode's SVG is drawn
    shapes only; the username is in the pattern, not in the markup."""
    user = UserFactory(username=f"u{payload}")
    svg = two_factor.qr_code_svg(two_factor.start_two_factor(user=user))
    assert set(re.findall(r"<\s*/?\s*([A-Za-z][\w:-]*)", svg)) == {"svg", "path"}
    assert "u<" not in svg and "otpauth" not in svg and "script" not in svg
    outside_tags = re.sub(r"<[^>]*>", "", svg).strip()
    assert outside_tags == ""


def test_the_unsubscribe_footer_of_an_html_message_is_escaped(settings):
    settings.SITE_URL = "https://crm.example.com/a&b"
    midnight = timezone.datetime(2000, 1, 1).time()
    FrequencyPolicy.objects.update_or_create(
        pk=1, defaults={"quiet_start": midnight, "quiet_end": midnight}
    )
    template = make_template(body_html="<p>Hello {{ first_name }}</p>")
    message = queue_message(
        consenting_customer(),
        now=timezone.now() - timedelta(minutes=1),
        rule=make_rule("check_in", 30, template=template),
    )
    send_message(message.pk, Delivery())
    message = Message.objects.get(pk=message.pk)
    assert message.status == Status.SENT
    link = re.search(r"Unsubscribe: (\S+)", message.body_text).group(1)
    assert link.startswith("https://crm.example.com/a&b/unsubscribe/")
    assert message.body_html.endswith(
        f'<p><a href="{escape(link)}">Unsubscribe</a></p>'
    )
    assert "a&amp;b/unsubscribe/" in message.body_html
