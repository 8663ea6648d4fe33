"""`Authorization: Bearer <secret>` (or `Token <secret>`) with an Owner-made token."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from .services import find_active_token, note_token_used

KEYWORDS = ("bearer", "token")
# token_urlsafe(32) gives 43 characters; anything far longer is not a token.
MAX_SECRET_LENGTH = 200


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """The request acts as the token's user, with that user's current role.

    A revoked or unknown token, or one whose user is inactive, is a 401: the
    client should stop and get a new token, not retry.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: give the token after the keyword, "
                "with no spaces."
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if len(secret) > MAX_SECRET_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = find_active_token(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        note_token_used(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a request with no credentials.
        return f'{self.keyword} realm="api"'
