from django.template import Context, Template
from django.urls import reverse, set_script_prefix


def render(text: str) -> str:
    return Template("{% load fixed_urls %}" + text).render(Context())


def test_fixed_url_is_what_url_gives_under_each_script_prefix():
    assert render("{% fixed_url 'customers:list' %}") == reverse("customers:list")
    try:
        set_script_prefix("/crm/")
        assert render("{% fixed_url 'customers:list' %}") == "/crm/customers/"
    finally:
        set_script_prefix("/")
    assert render("{% fixed_url 'customers:list' %}") == "/customers/"
