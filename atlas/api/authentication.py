"""API tokens in the ``Authorization`` header: ``Bearer <token>`` or ``Token <token>``.

A request that sends an Authorization header this API cannot honour (an unknown, expired or
revoked token, a scheme it does not take, a header without a token) is refused with 401 in
the API's error shape; it is never read as anonymous.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

SCHEMES = (b"bearer", b"token")


class TokenAuthentication(auth.TokenAuthentication):
    """Knox tokens under either scheme (case-insensitive, as HTTP intends). Views that also
    take HTTP Basic list ``BasicAuthentication`` first, so this sees no Basic header there."""

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() not in SCHEMES:
            raise exceptions.AuthenticationFailed(
                "Unsupported Authorization header: send `Bearer <token>` or `Token <token>`."
            )
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send the scheme, one space and the token."
            )
        try:
            parts[1].decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_credentials(parts[1])

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "knoxApiToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `POST /api/v1/auth/tokens`, sent as "
            "`Authorization: Bearer <token>` (or `Token <token>`). An unknown, expired or "
            "revoked token is a 401, never an anonymous request.",
        }
