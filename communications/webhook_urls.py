"""/webhooks/<source>/…: public, each verified as its provider signs it."""

from django.urls import include, path

from .webhooks import TwilioInboundView, TwilioStatusView, anymail_tracking_urls

app_name = "webhooks"
urlpatterns = [
    # /webhooks/anymail/<esp>/tracking/ (mailgun, postmark, sendgrid, brevo,
    # amazon_ses, ...): paste into the provider's dashboard.
    path("anymail/", include((anymail_tracking_urls(), "anymail"))),
    path("twilio/status/", TwilioStatusView.as_view(), name="twilio-status"),
    path("twilio/inbound/", TwilioInboundView.as_view(), name="twilio-inbound"),
]
