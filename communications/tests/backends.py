"""Email backends that fail, standing in for an unreachable or refusing server;
Twilio's HTTP edge, faked."""

import json
import logging
import smtplib

from django.core.mail.backends.base import BaseEmailBackend
from twilio.http import HttpClient
from twilio.http.response import Response

from communications.delivery.twilio import TwilioSmsBackend


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


class FakeTwilioHttp(HttpClient):
    """Twilio's API at the HTTP edge: the real SDK builds and parses, this
    answers as api.twilio.com would (201 and the message, or an error)."""

    def __init__(self) -> None:
        super().__init__(logger=logging.getLogger("twilio.fake"), is_async=False)
        self.requests: list[dict] = []
        self.answers: list = []  # (status, body) or an exception, in turn

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ) -> Response:
        self.requests.append(
            {"method": method, "uri": uri, "data": dict(data or {}), "auth": auth}
        )
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        status, body = answer or (201, self._created(data or {}))
        return Response(status, json.dumps(body))

    def _created(self, data: dict) -> dict:
        return {
            "sid": f"SM{len(self.requests):032x}",
            "account_sid": "AC" + "0" * 32,
            "to": data.get("To"),
            "from": data.get("From"),
            "body": data.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Sat, 15 Jun 2024 12:00:00 +0000",
            "uri": "/2010-04-01/Accounts/AC.../Messages/SM....json",
        }


twilio_http = FakeTwilioHttp()


class TwilioOverFakeHttp(TwilioSmsBackend):
    """The real Twilio backend and SDK, their HTTP layer faked."""

    def __init__(self) -> None:
        super().__init__(http_client=twilio_http)
