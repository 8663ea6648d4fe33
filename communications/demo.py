"""Demo outreach: default templates and follow-up rules, so `make run` shows
follow-ups going out on their own (the planner writes them within 5 minutes,
the dispatcher hands them to the worker within a minute)."""

from __future__ import annotations

from django.db import transaction

from .models import FollowUpRule, MessageTemplate, Trigger
from .planner import plan_outreach
from .services import save_rule, save_template

SIGN_OFF = "\n\nThe team at {{ business_name }}\n\nUnsubscribe: {{ unsubscribe_url }}"

TEMPLATES = {
    "Check-in": {
        "channel": "email",
        "subject": "How are things, {{ first_name }}?",
        "body_text": "Hello {{ first_name }},\n\nIt has been a while since we last "
        "spoke. Is there anything we can help you with? Just reply to this email."
        + SIGN_OFF,
    },
    "Thank you": {
        "channel": "email",
        "subject": "Thank you for your purchase, {{ first_name }}",
        "body_text": "Hello {{ first_name }},\n\nThank you for shopping with us"
        "{% if last_purchase_date %} on {{ last_purchase_date|date:'j F' }}"
        "{% endif %}. We hope you enjoy it."
        "{% if points_balance %} You now have {{ points_balance }} points."
        "{% endif %}" + SIGN_OFF,
        "body_html": "<p>Hello {{ first_name }},</p><p>Thank you for shopping with "
        "us. We hope you enjoy it.</p><p>The team at {{ business_name }}</p>"
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    },
    "We miss you": {
        "channel": "email",
        "subject": "We miss you, {{ first_name }}",
        "body_text": "Hello {{ first_name }},\n\nWe have not seen you since "
        "{{ last_purchase_date|date:'F' }}. Come and see what is new." + SIGN_OFF,
    },
    "Happy birthday": {
        "channel": "email",
        "subject": "Happy birthday, {{ first_name }}!",
        "body_text": "Happy birthday, {{ first_name }}! Everyone at "
        "{{ business_name }} wishes you a wonderful day." + SIGN_OFF,
    },
    "Welcome": {
        "channel": "email",
        "subject": "Welcome to {{ business_name }}",
        "body_text": "Hello {{ first_name }},\n\nThank you for choosing us. If "
        "there is anything we can do for you, just reply." + SIGN_OFF,
    },
    "Points expiring": {
        "channel": "email",
        "subject": "{{ points_expiring }} of your points expire soon",
        "body_text": "Hello {{ first_name }},\n\n{{ points_expiring }} of your "
        "{{ points_balance }} points expire on "
        "{{ points_expire_on|date:'j F' }}. Come and spend them before then."
        + SIGN_OFF,
    },
    "New tier": {
        "channel": "email",
        "subject": "Welcome to {{ tier }}, {{ first_name }}",
        "body_text": "Hello {{ first_name }},\n\nYou have reached our {{ tier }} "
        "tier. Thank you for your loyalty!" + SIGN_OFF,
    },
}

# name -> (trigger, days, template)
RULES = {
    "Check in after 90 days without contact": (Trigger.CHECK_IN, 90, "Check-in"),
    "Thank you, 2 days after a purchase": (Trigger.THANK_YOU, 2, "Thank you"),
    "Win back after 180 days without a purchase": (
        Trigger.WIN_BACK,
        180,
        "We miss you",
    ),
    "Birthday note": (Trigger.BIRTHDAY, 0, "Happy birthday"),
    "Welcome, a day after joining": (Trigger.WELCOME, 1, "Welcome"),
    "Points expiring within 14 days": (
        Trigger.POINTS_EXPIRING,
        14,
        "Points expiring",
    ),
    "Reached a new tier": (Trigger.TIER_REACHED, 0, "New tier"),
}


def seed_outreach_demo(*, plan: bool = True) -> dict[str, int]:
    """Create the demo templates and rules that are missing; returns counts made.

    With ``plan``, the planner runs at once, so the first follow-ups go out at
    the dispatcher's first run (a minute after beat starts), not five minutes on.
    """
    made = _templates_and_rules()
    if plan:
        made["planned"] = plan_outreach().total
    return made


@transaction.atomic
def _templates_and_rules() -> dict[str, int]:
    made = {"templates": 0, "rules": 0}
    templates = {}
    for name, fields in TEMPLATES.items():
        template = MessageTemplate.objects.filter(name__iexact=name).first()
        if template is None:
            template = save_template(name=name, **fields)
            made["templates"] += 1
        templates[name] = template
    for name, (trigger, days, template_name) in RULES.items():
        if FollowUpRule.objects.filter(name__iexact=name).exists():
            continue
        template = templates[template_name]
        save_rule(
            name=name,
            trigger=trigger,
            days=days,
            channel=template.channel,
            template=template,
            active=True,
        )
        made["rules"] += 1
    return made


def seed_demo_summary(seed: int) -> str:
    """``seed_demo``'s outreach step (settings.CRM_DEMO_SEEDERS): its summary line.

    Listed after loyalty's, so the first plan sees the demo members.
    """
    made = seed_outreach_demo()
    return (
        f"Outreach: {made.get('templates', 0)} templates, {made.get('rules', 0)} "
        f"rules, {made.get('planned', 0)} messages planned."
    )
