"""Request rates: one bucket per API token, per signed-in session user, or per anonymous
address (the client's, behind trusted proxies: ``atlas.client_address``).

DRF's settings import this module: it imports no DRF view.
"""

from __future__ import annotations

from rest_framework import throttling

from atlas.client_address import client_address


class ClientRateThrottle(throttling.SimpleRateThrottle):
    """One bucket per API token, per signed-in browser session user, or per anonymous address."""

    def get_rate(self) -> str | None:
        return None  # chosen per request in allow_request

    def allow_request(self, request, view) -> bool:
        self.scope = "client" if request.user and request.user.is_authenticated else "anon"
        self.rate = self.THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "digest"):
            ident = f"token:{token.digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request) -> str:
        # DRF's own reads X-Forwarded-For by NUM_PROXIES; the one rule for every limit wins.
        return client_address(request) or ""

    @property
    def THROTTLE_RATES(self) -> dict:
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_THROTTLE_RATES
