"""Email backends that fail, standing in for an unreachable or refusing server."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class DisconnectingBackend(BaseEmailBackend):
    """The server hangs up: a transient error."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    """The server refuses the recipient for good (5xx): a permanent error."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused(
            {email_messages[0].to[0]: (550, b"No such user")}
        )
