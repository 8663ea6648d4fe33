"""``{% fixed_url 'name' %}``: ``{% url 'name' %}`` for a URL without arguments,
reversed once per URLconf and script prefix instead of on every page.

The nav bar on every page links to a dozen such URLs; reversing them each time
was a measurable part of the cheapest page.
"""

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@lru_cache(maxsize=256)
def _reversed(name: str, urlconf: str | None, prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def fixed_url(name: str) -> str:
    return _reversed(name, get_urlconf(), get_script_prefix())


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs) -> None:
    # As Django clears its own URL caches when a test swaps the URLconf.
    if setting == "ROOT_URLCONF":
        _reversed.cache_clear()
