"""One access matrix over every URL the resolver knows (the admin aside).

Each URL has a row: how to fill its arguments, and what an anonymous visitor,
a Staff member, another Staff member and an Owner get from a GET. The rows of
each app's pages come from that app's own access test (one table per app, kept
beside the pages it describes); the project's own URLs are listed here. A URL
with no row fails the test, and so does any 5xx.

Staff share the customer base (a small shop's staff all serve every customer),
so "another Staff member" gets what the first does: nothing is private to the
Staff member who recorded it.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from communications import services as outreach
from communications.tests.helpers import (
    consenting_customer,
    make_rule,
    make_template,
    queue_message,
)
from communications.tests.test_views_access import PAGES as OUTREACH_PAGES
from communications.unsubscribe import make_token
from crm.api.services import create_api_token
from crm.tests.test_dashboard_access import PAGES as DASHBOARD_PAGES
from customers import services
from customers.models import ImportJob
from customers.tests.factories import CustomerFactory, TagFactory
from customers.tests.test_views_access import PAGES as CUSTOMER_PAGES
from loyalty import services as loyalty
from loyalty.tests.factories import RewardFactory, TierFactory, buy, run_program
from loyalty.tests.test_views_access import PAGES as LOYALTY_PAGES

pytestmark = pytest.mark.django_db

LOGIN = "login"  # anonymous visitors are sent to the login page
PUBLIC = "public"  # anyone: the page answers without a login
# A provider's webhook: public, verified by the provider's signature, so an
# unsigned request from anyone, logged in or not, is refused (4xx).
WEBHOOK = "webhook"

# name -> (arguments from the world, anonymous, Staff, Owner)
PROJECT_PAGES = {
    # Home sends everyone to the customer list (which asks for a login).
    "home": (lambda w: [], 302, 302, 302),
    "login": (lambda w: [], PUBLIC, 200, 200),
    # Logging out is a POST; a GET is refused for everyone.
    "logout": (lambda w: [], 405, 405, 405),
    "password_change": (lambda w: [], LOGIN, 200, 200),
    "password_change_done": (lambda w: [], LOGIN, 200, 200),
    "unsubscribe": (lambda w: [w.unsubscribe_token], PUBLIC, 200, 200),
    "api:api-root": (lambda w: [], 401, 200, 200),
    "api:schema": (lambda w: [], 401, 200, 200),
    "api:docs": (lambda w: [], LOGIN, 200, 200),
    "api:customer-list": (lambda w: [], 401, 200, 200),
    "api:customer-detail": (lambda w: [w.customer.pk], 401, 200, 200),
    "api:customer-purchase-list": (lambda w: [w.customer.pk], 401, 200, 200),
    "api:customer-interaction-list": (lambda w: [w.customer.pk], 401, 200, 200),
    # Feedback is create-only: a GET is not allowed, once logged in.
    "api:customer-feedback-list": (lambda w: [w.customer.pk], 401, 405, 405),
    "api_tokens:list": (lambda w: [], LOGIN, 403, 200),
    "api_tokens:revoke": (lambda w: [w.token.pk], LOGIN, 403, 200),
    "security:settings": (lambda w: [], LOGIN, 403, 200),
    "security:lockouts": (lambda w: [], LOGIN, 403, 200),
    # Unlocking is a POST from the lockouts page.
    "security:lockout-unlock": (lambda w: [], LOGIN, 403, 405),
    # Two-factor login, everyone's own: set-up without a new secret returns to
    # the two-factor page; turning it off is a POST; the code page sends anyone
    # who owes no code onwards.
    "security:two-factor": (lambda w: [], LOGIN, 200, 200),
    "security:two-factor-setup": (lambda w: [], LOGIN, 302, 302),
    "security:two-factor-disable": (lambda w: [], LOGIN, 405, 405),
    "security:two-factor-verify": (lambda w: [], LOGIN, 302, 302),
    # The set-password link the team page e-mails: public; a wrong token shows
    # that the link does not work.
    "password_reset_confirm": (lambda w: ["MQ", "no-such-token"], PUBLIC, 200, 200),
    "password_reset_complete": (lambda w: [], PUBLIC, 200, 200),
    # The Owner's team page; each change's GET is its confirmation page.
    "team:list": (lambda w: [], LOGIN, 403, 200),
    "team:invite": (lambda w: [], LOGIN, 403, 200),
    "team:role": (lambda w: [w.team_member.pk], LOGIN, 403, 200),
    "team:reset-password": (lambda w: [w.team_member.pk], LOGIN, 403, 200),
    "team:deactivate": (lambda w: [w.team_member.pk], LOGIN, 403, 200),
    "team:reactivate": (lambda w: [w.team_member.pk], LOGIN, 403, 200),
    "audit:list": (lambda w: [], LOGIN, 403, 200),
}


def app_rows(pages: dict) -> dict:
    """An app's (args, Staff, Owner) rows, with anonymous sent to log in."""
    return {
        name: (args, LOGIN, staff, owner)
        for name, (args, staff, owner) in pages.items()
    }


MATRIX = {
    **app_rows(CUSTOMER_PAGES),
    **app_rows(LOYALTY_PAGES),
    **app_rows(OUTREACH_PAGES),
    **{
        name: ((lambda w, a=args: a), LOGIN, 403, 200)
        for name, args in DASHBOARD_PAGES.items()
    },
    **PROJECT_PAGES,
}


def webhook_rows() -> dict:
    names = url_names(get_resolver().url_patterns)
    return {
        name: ((lambda w: []), WEBHOOK, WEBHOOK, WEBHOOK)
        for name in names
        if name.startswith(("anymail:", "webhooks:")) or "webhook" in name
    }


def url_names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django's admin: its own staff flag and permissions
            inner = namespace
            if pattern.namespace:  # nested: webhooks:anymail:…
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


@pytest.fixture
def world(roles, staff_user, owner_user):
    """One of everything any URL can name."""
    customer = CustomerFactory()
    interaction = services.log_interaction(
        customer=customer, kind="call", subject="Hello", by=staff_user,
        follow_up_on=timezone.localdate(),
    )  # fmt: skip
    purchase, _ = services.record_purchase(
        customer=customer, amount="300.00", occurred_at=timezone.now()
    )
    tag = TagFactory()
    run_program()
    buy(customer, "300")
    reward = RewardFactory(cost=100)
    template = make_template()
    rule = make_rule("check_in", 30, template=template)
    return SimpleNamespace(
        customer=customer,
        follow_up=interaction.follow_ups.get(),
        purchase=purchase,
        tag=tag,
        segment=services.save_segment(
            name="Tagged", params={"tag": tag.pk}, by=staff_user
        ),
        import_job=ImportJob.objects.create(
            kind="customers", file_name="people.csv", stored_as="imports/x.csv"
        ),
        tier=TierFactory(name="Silver"),
        reward=reward,
        redemption=loyalty.redeem(customer, reward),
        template=template,
        rule=rule,
        campaign=outreach.save_campaign(
            name="Summer",
            template=template,
            segment=None,
            everyone=True,
            send_at=timezone.now() + timedelta(days=1),
            priority=50,
            by=owner_user,
        ),  # fmt: skip
        message=queue_message(consenting_customer(), now=timezone.now(), rule=rule),
        token=create_api_token(user=owner_user, name="Shop")[0],
        team_member=staff_user,
        unsubscribe_token=make_token(
            customer_id=customer.pk, channel="email", message_id=None
        ),
    )


MATRIX.update(webhook_rows())


def test_every_url_has_a_row():
    names = url_names(get_resolver().url_patterns)
    assert sorted(names - set(MATRIX)) == [], "URLs without a row in the matrix"
    assert sorted(set(MATRIX) - names) == [], "rows for URLs that no longer exist"


def check(response, expected, url: str) -> None:
    assert response.status_code < 500, f"{url}: {response.status_code}"
    if expected == LOGIN:
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    elif expected == WEBHOOK:
        assert 400 <= response.status_code < 500, (url, response.status_code)
    elif expected == PUBLIC:
        assert response.status_code in (200, 302), url
    else:
        assert response.status_code == expected, (url, response.status_code)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_matrix(client, world, staff_user, other_staff_user, owner_user, name):
    args, anonymous, staff, owner = MATRIX[name]
    url = reverse(name, args=args(world))
    check(client.get(url), anonymous, url)
    for user, expected in (
        (staff_user, staff),
        (other_staff_user, staff),
        (owner_user, owner),
    ):
        client.force_login(user)
        check(client.get(url), expected, f"{url} as {user.username}")
        client.logout()
