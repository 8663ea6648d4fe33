"""Templates render against plain values only; injection renders nothing it should
not, and bad templates are refused with a clear message when saved."""

import pytest
from django.core.exceptions import ValidationError

from communications import services
from communications.context import customer_context
from communications.models import MessageTemplate
from communications.rendering import check_source, render_source, sample_context
from customers.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def render(source: str, html: bool = False, **values) -> str:
    return render_source(source, {**sample_context(), **values}, html=html)


def test_plain_variables_and_filters_render():
    text = render("Hi {{ first_name|upper }}, {{ points_balance }} points")
    assert text == "Hi ANA, 1250 points"


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}{% static 'x.css' %}",
        "{% load crispy_forms_tags %}",
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% debug %}",
        "{% url 'customers:list' %}",
        "{% csrf_token %}",
        "{% autoescape off %}{{ first_name }}{% endautoescape %}",
    ],
)
def test_forbidden_tags_are_refused_when_saved(source):
    problems = check_source(source, html=False)
    assert problems and "not allowed" in problems[0]
    with pytest.raises(ValidationError) as error:
        services.save_template(name="Bad", channel="sms", body_text=source)
    assert "not allowed" in str(error.value.message_dict["body_text"])
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize(
    "source",
    ["{{ settings }}", "{{ settings.SECRET_KEY }}", "{{ customer.owner.password }}",
     "{{ request }}", "{{ user.password }}"],
)  # fmt: skip
def test_unknown_variables_are_refused(source):
    problems = check_source(source, html=False)
    assert problems and problems[0].startswith("Unknown variable")


@pytest.mark.parametrize(
    "source",
    ["{{ first_name.__class__ }}", "{{ _private }}", "{{ first_name._x }}"],
)
def test_private_attributes_are_refused(source):
    assert check_source(source, html=False)


def test_a_forbidden_tag_cannot_be_rendered_even_if_stored():
    # Rendering compiles with the same restricted engine, not Django's default.
    with pytest.raises(Exception, match="load"):
        render("{% load static %}")
    with pytest.raises(Exception, match="include"):
        render("{% include 'base.html' %}")


def test_settings_are_not_reachable_at_render_time(settings):
    settings.SECRET_KEY = "very-secret-value"
    text = render("[{{ settings.SECRET_KEY }}][{{ SECRET_KEY }}][{% now 'Y' %}]")
    assert "very-secret-value" not in text
    assert text.startswith("[][]")


def test_a_customer_name_holding_template_syntax_is_printed_not_run(settings):
    settings.SECRET_KEY = "very-secret-value"
    owner = UserFactory(username="boss")
    customer = CustomerFactory(
        first_name="{{ settings.SECRET_KEY }}{% debug %}",
        last_name="<script>alert(1)</script>",
        owner=owner,
    )
    context = customer_context(customer, channel="email")
    text = render_source("Hi {{ first_name }} {{ last_name }}", context, html=False)
    assert text == ("Hi {{ settings.SECRET_KEY }}{% debug %} <script>alert(1)</script>")
    html = render_source("<p>{{ last_name }}</p>", context, html=True)
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert "very-secret-value" not in text + html


def test_the_context_holds_plain_values_only():
    customer = CustomerFactory(owner=UserFactory(username="boss"))
    context = customer_context(customer, channel="email")
    for value in context.values():
        assert value is None or type(value).__name__ in {"str", "int", "date"}


def test_safe_is_not_available_to_undo_escaping():
    assert check_source("{{ last_name|safe }}", html=True)
    assert check_source("{{ last_name|safeseq }}", html=True)


def test_loop_and_with_variables_are_known():
    source = (
        "{% with name=first_name %}{{ name }}{% endwith %}"
        "{% for letter in first_name %}{{ letter }}{{ forloop.counter }}{% endfor %}"
        "{% filter upper %}{{ business_name }}{% endfilter %}"
    )
    assert check_source(source, html=False) == []
    assert render(source).startswith("AnaA1n2a3")


def test_unknown_variable_inside_an_untaken_branch_is_still_found():
    problems = check_source("{% if tier %}{{ secret }}{% endif %}", html=False)
    assert "{{ secret }}" in problems[0]


def test_syntax_errors_are_reported_beside_the_field():
    with pytest.raises(ValidationError) as error:
        services.save_template(
            name="Broken", channel="email", subject="Hi", body_text="{% if %}"
        )
    assert "body_text" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.save_template(
            name="Broken", channel="email", subject="{{ first_name", body_text="x"
        )
    assert "subject" in error.value.message_dict


def test_an_email_needs_a_subject_and_an_sms_none():
    with pytest.raises(ValidationError) as error:
        services.save_template(name="A", channel="email", body_text="Hi")
    assert "subject" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.save_template(name="B", channel="sms", subject="x", body_text="Hi")


def test_html_bodies_escape_customer_values():
    html = render("<b>{{ first_name }}</b>", html=True, first_name="<i>&</i>")
    assert html == "<b>&lt;i&gt;&amp;&lt;/i&gt;</b>"
    text = render("{{ first_name }}", first_name="Tom & Jerry")
    assert text == "Tom & Jerry"
