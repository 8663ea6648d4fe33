"""The providers' webhooks, public under /webhooks/ and verified as each signs.

- /webhooks/anymail/<esp>/tracking/: django-anymail's own views, which check
  the provider's signature (Mailgun) or the basic auth in the URL
  (ANYMAIL_WEBHOOK_SECRET). One whose only check is basic auth is refused
  while no secret is set: anymail would accept anyone's post.
- /webhooks/twilio/status/ and /webhooks/twilio/inbound/: checked with the
  SDK's RequestValidator against the URL Twilio called (SITE_URL + path).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator, get_signature_algorithm

from .tracking import Report, record_report

try:
    from django.contrib.auth.decorators import login_not_required
except ImportError:  # Django < 5.1 has no LoginRequiredMiddleware to opt out of

    def login_not_required(view):
        return view


# Twilio's message statuses in anymail's terms (communications.models.events).
TWILIO_STATUSES = {
    "accepted": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "opened",
    "undelivered": "deferred",
    "failed": "failed",
}
# Error codes of an undelivered SMS that mean the number will take no more:
# 21610 the recipient replied STOP; 30005 unknown number; 30006 a landline.
TWILIO_SUPPRESSING = {"21610": "unsubscribed", "30005": "bounced", "30006": "bounced"}
# Replies Twilio itself treats as an opt-out (its Advanced Opt-Out defaults).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"}


def guarded_anymail_view(view_class):
    """Anymail's view, refused (403) while it would check nothing."""
    from anymail.exceptions import AnymailConfigurationError
    from anymail.utils import get_anymail_setting

    @csrf_exempt
    @login_not_required
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        secret = get_anymail_setting("webhook_secret", default=None)
        if view_class.warn_if_no_basic_auth and not secret:
            return HttpResponseForbidden(
                "This webhook is off: set ANYMAIL_WEBHOOK_SECRET (basic auth)."
            )
        try:
            # Anymail checks its signing key when the view is made, per request.
            inner = view_class.as_view()
            return inner(request, *args, **kwargs)
        except AnymailConfigurationError:
            return HttpResponseForbidden(
                "This webhook is off: its provider's signing key is not set."
            )

    view.view_class = view_class
    return view


def anymail_tracking_urls() -> list:
    """Anymail's tracking webhook routes (not its inbound ones), guarded."""
    from anymail.urls import urlpatterns
    from django.urls import path

    return [
        path(
            str(route.pattern),
            guarded_anymail_view(route.callback.view_class),
            name=route.name,
        )
        for route in urlpatterns
        if route.name and route.name.endswith("tracking_webhook")
    ]


def twilio_signed(request: HttpRequest) -> bool:
    """The X-Twilio-Signature is Twilio's, over the public URL and the form."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not (token and signature):
        return False
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    algorithm = get_signature_algorithm(
        request.headers.get("X-Twilio-Webhooks-Signature-Settings", "")
    )
    return RequestValidator(token).validate(url, request.POST, signature, algorithm)


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class TwilioWebhookView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        if not twilio_signed(request):
            return HttpResponseForbidden("Not signed by Twilio.")
        report = self.report(request)
        if report is not None:
            record_report(report=report)
        # An empty TwiML answer: nothing to reply.
        return HttpResponse("<Response/>", content_type="text/xml")


class TwilioStatusView(TwilioWebhookView):
    """An SMS's status callback (set on each SMS the backend sends)."""

    def report(self, request: HttpRequest) -> Report | None:
        data = request.POST
        sid, status = data.get("MessageSid", ""), data.get("MessageStatus", "")
        if not sid or status not in TWILIO_STATUSES:
            return None
        code = data.get("ErrorCode", "")
        event_type = TWILIO_STATUSES[status]
        if status == "undelivered":
            event_type = TWILIO_SUPPRESSING.get(code, event_type)
        return Report(
            provider="Twilio",
            event_id=f"{sid}:{status}",
            event_type=event_type,
            channel="sms",
            occurred_at=timezone.now(),
            message_key=request.GET.get("message", ""),
            provider_message_id=sid,
            recipient=data.get("To", ""),
            detail=f"{status}, error {code}" if code else status,
        )


class TwilioInboundView(TwilioWebhookView):
    """A reply to our number: STOP (and its synonyms) opts the sender out."""

    def report(self, request: HttpRequest) -> Report | None:
        data = request.POST
        words = data.get("Body", "").strip().upper().split()
        stop = data.get("OptOutType", "").upper() == "STOP" or (
            len(words) == 1 and words[0].strip(".!") in STOP_WORDS
        )
        if not stop or not data.get("MessageSid"):
            return None
        return Report(
            provider="Twilio",
            event_id=data["MessageSid"],
            event_type="unsubscribed",
            channel="sms",
            occurred_at=timezone.now(),
            recipient=data.get("From", ""),
            detail=f"Replied {data.get('Body', '').strip()[:50]!r}.",
        )
