"""Phone numbers in E.164 (+447700900123), the one form SMS providers take."""

from __future__ import annotations

import phonenumbers
from django.conf import settings


class InvalidPhoneNumber(ValueError):
    """Not a phone number one could send an SMS to; the message says why."""


def to_e164(number: str, region: str | None = None) -> str:
    """The number in E.164; a number without +country code is read in
    PHONE_REGION (none set: it is refused rather than guessed)."""
    region = (settings.PHONE_REGION if region is None else region) or None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidPhoneNumber(
                f"The phone number {number!r} has no country code "
                "(write it with +, or set PHONE_REGION)."
            ) from error
        raise InvalidPhoneNumber(f"{number!r} is not a phone number.") from error
    # "Possible" (the length fits the country), not "valid": the numbering plan
    # changes faster than the library, and the provider refuses what is not real.
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"{number!r} is not a possible phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def same_number(a: str, b: str) -> bool:
    """Both are one number, however written."""
    try:
        return to_e164(a) == to_e164(b)
    except InvalidPhoneNumber:
        return False
