"""Template and campaign previews show a message, never run it (issue 13, item 8):
the HTML part is drawn in a sandboxed frame (escaped into its srcdoc attribute),
the text part is text with its line breaks."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from communications import services

from .helpers import consenting_customer, make_template

pytestmark = pytest.mark.django_db

HTML_BODY = (
    "<p>Hello {{ first_name }}</p><b id=x>bold</b>"
    "<script>window.ran = 1</script><img src=x onerror=alert(1)>"
)
TEXT_BODY = "Hello {{ first_name }},\n\nline two <i id=y>\n  indented line three"


class Page(HTMLParser):
    """The elements of the page's own DOM, with their attributes and texts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        marker = attributes.get("data-preview")
        self._open.append(marker or "")
        if marker:
            self.texts[marker] = ""

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for marker in self._open:
            if marker:
                self.texts[marker] += data

    def having(self, **wanted) -> list[tuple[str, dict]]:
        return [
            (tag, attributes)
            for tag, attributes in self.elements
            if all(attributes.get(name) == value for name, value in wanted.items())
        ]


def assert_shown_not_run(content: bytes, first_name: str) -> None:
    html = content.decode()
    page = Page(html)
    # Nothing of the message became an element of the page itself.
    assert page.having(id="x") == [] and page.having(id="y") == []
    assert not any(tag == "img" and "onerror" in a for tag, a in page.elements)
    assert "<b id=x>" not in html and "<script>window.ran" not in html
    frames = [(tag, a) for tag, a in page.elements if tag == "iframe"]
    assert len(frames) == 1
    frame = frames[0][1]
    # sandbox with no allow- token at all: no scripts, an opaque origin.
    assert "sandbox" in frame and frame["sandbox"] in ("", None)
    expected_html = (
        f"<p>Hello {first_name}</p><b id=x>bold</b>"
        "<script>window.ran = 1</script><img src=x onerror=alert(1)>"
    )
    assert frame["srcdoc"] == expected_html  # the frame's document, unescaped
    assert 'srcdoc="&lt;p&gt;Hello' in html  # and in the page, escaped
    assert page.texts["html-source"] == expected_html
    expected_text = f"Hello {first_name},\n\nline two <i id=y>\n  indented line three"
    assert page.texts["text"] == expected_text
    text_tag = page.having(**{"data-preview": "text"})[0]
    assert text_tag[0] == "pre"
    # Bootstrap's text-wrap is white-space: normal, which joins the lines up.
    assert "text-wrap" not in text_tag[1]["class"].split()


def test_the_template_preview_shows_the_html_in_a_sandbox_and_text_as_text(
    owner_client,
):
    template = make_template(body_html=HTML_BODY, body_text=TEXT_BODY)
    url = reverse("communications:template-preview", args=[template.pk])
    assert_shown_not_run(owner_client.get(url).content, "Ana")
    customer = consenting_customer(first_name="Zoë")
    response = owner_client.get(url, {"customer": customer.email})
    assert_shown_not_run(response.content, "Zoë")


def test_a_customer_s_name_with_markup_stays_text_in_both_parts(owner_client):
    template = make_template(body_html=HTML_BODY, body_text=TEXT_BODY)
    customer = consenting_customer(first_name="<b id=x>Eve")
    url = reverse("communications:template-preview", args=[template.pk])
    page = Page(owner_client.get(url, {"customer": customer.email}).content.decode())
    assert page.having(id="x") == []
    frame = next(a for tag, a in page.elements if tag == "iframe")
    # Escaped once by the HTML engine for the mail client, then for the page.
    assert "<p>Hello &lt;b id=x&gt;Eve</p>" in frame["srcdoc"]
    assert page.texts["text"].startswith("Hello <b id=x>Eve,\n\n")


def test_the_campaign_preview_shows_the_html_in_a_sandbox_and_text_as_text(
    owner_client,
):
    consenting_customer(first_name="Ana")
    campaign = services.save_campaign(
        name="Summer",
        template=make_template(body_html=HTML_BODY, body_text=TEXT_BODY),
        segment=None,
        everyone=True,
        send_at=timezone.now() + timedelta(days=1),
        priority=50,
    )
    response = owner_client.get(campaign.get_absolute_url())
    assert response.status_code == 200
    assert_shown_not_run(response.content, "Ana")
