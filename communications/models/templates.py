"""Message templates: what an email or SMS says, in safe Django template syntax."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class MessageTemplate(models.Model):
    """An email (subject, text, optional HTML) or an SMS (text).

    Rendered against a fixed context of plain values (communications.rendering);
    ``clean()`` refuses syntax errors, forbidden tags and unknown variables.
    """

    name = models.CharField(max_length=100)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    subject = models.CharField(
        max_length=200, blank=True, help_text="Email only. Template syntax allowed."
    )
    body_text = models.TextField("text", help_text="The plain-text body (or the SMS).")
    body_html = models.TextField(
        "HTML", blank=True, help_text="Email only, optional: an HTML version."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="message_template_name_unique_ci",
                violation_error_message="A template with this name exists already.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communications:template-edit", args=[self.pk])

    def clean(self) -> None:
        from ..rendering import validate_message_template

        super().clean()
        validate_message_template(
            channel=self.channel,
            subject=self.subject,
            body_text=self.body_text,
            body_html=self.body_html,
        )
