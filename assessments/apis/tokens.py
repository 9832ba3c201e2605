"""API tokens: create one by signing in (HTTP Basic, counted towards the web login's
lock-out, or a browser session; never with a token, so a stolen token cannot make more that
outlive it), revoke the one a request is authenticated with, or revoke them all."""

from __future__ import annotations

import datetime as dt

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from drf_spectacular.authentication import BasicScheme
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.services.roles import user_tokens_revoke
from atlas.api.authentication import TokenAuthentication
from atlas.api.parsing import RejectUnknownFieldsMixin, StrictQueryMixin


class TokenCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=settings.API_TOKEN_TTL_DAYS,
        required=False,
        help_text="Lifetime in days (default and maximum: the server's token lifetime).",
    )


TokenSerializer = inline_serializer(
    "Token",
    fields={
        "token": serializers.CharField(help_text="Shown once; only its hash is stored."),
        "expiry": serializers.DateTimeField(),
        "username": serializers.CharField(),
    },
)


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self) -> None:
        hours = settings.AXES_COOLOFF_TIME
        self.wait = round(hours * 3600)
        super().__init__(
            "Too many failed sign-ins for this user from this address: signing in is locked "
            f"for {round(hours * 60)} minutes after the last failure (see `Retry-After`)."
        )


class LockoutBasicAuthentication(BasicAuthentication):
    """HTTP Basic sign-in that counts towards the web login's lock-out (django-axes, per
    username and client address): Django's ``authenticate`` reports each failure to axes, a
    locked-out pair is refused with 429, even with the right password, and a success clears
    the count."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # Axes refuses a locked-out pair inside ``authenticate`` without saying so to the
            # caller; ask it, so the client is told to wait rather than that the password is
            # wrong.
            if request is not None and AxesProxyHandler.is_locked(
                request, credentials={"username": userid}
            ):
                raise LockedOut() from None
            raise
        if request is not None:
            # A successful sign-in clears the failures, as the web login's does (axes listens
            # for ``user_logged_in``, which HTTP Basic never sends).
            AxesProxyHandler.user_logged_in(type(self), request=request, user=user)
        return user, auth


class LockoutBasicScheme(BasicScheme):
    """Documents ``LockoutBasicAuthentication`` as the HTTP Basic scheme it is."""

    target_class = LockoutBasicAuthentication


@extend_schema(tags=["auth"])
class TokenView(StrictQueryMixin, APIView):
    """Your API tokens: create one by signing in, or revoke them all."""

    # A token is accepted only to revoke them all; ``post`` refuses it.
    authentication_classes = [
        LockoutBasicAuthentication,
        SessionAuthentication,
        TokenAuthentication,
    ]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: TokenSerializer},
        auth=[{"basicAuth": []}, {"cookieAuth": []}],
        summary="Create an API token",
        description="Sign in with HTTP Basic (or a browser session); a request authenticated "
        "with a token is refused with 403, so a token never makes another. Failed HTTP Basic "
        "sign-ins count towards the same lock-out as the web login; a locked-out user and "
        "address get 429 (code `locked_out`) until the cool-off has passed.",
    )
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            raise exceptions.PermissionDenied(
                "A token cannot create tokens: sign in with HTTP Basic (your username and "
                "password) to create one."
            )
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        days = serializer.validated_data.get("expires_in_days", settings.API_TOKEN_TTL_DAYS)
        instance, token = AuthToken.objects.create(request.user, expiry=dt.timedelta(days=days))
        return Response(
            {"token": token, "expiry": instance.expiry, "username": request.user.get_username()},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Every token of yours is revoked.")},
        summary="Revoke all your API tokens",
        description="Signed in with HTTP Basic, a browser session or any of your tokens. Every "
        "token of yours stops working at once, the one used for this request included.",
    )
    def delete(self, request):
        user_tokens_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class CurrentTokenView(StrictQueryMixin, APIView):
    """The token this request is authenticated with."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Revoked.")},
        summary="Revoke the token used for this request",
    )
    def delete(self, request):
        if not isinstance(request.auth, AuthToken):
            raise exceptions.NotAuthenticated("Send the token you want to revoke.")
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
