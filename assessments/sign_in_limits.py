"""Limits on failed sign-ins beyond one username: per client address, and for the whole site.

django-axes locks a username at one client address after ``ATLAS_LOGIN_FAILURE_LIMIT``
failures. Spraying one password over many usernames never trips that, so two more limits
count the failures axes records (its ``AccessAttempt`` rows still inside the cool-off):

- from one client address, over every username: ``ATLAS_LOGIN_ADDRESS_FAILURE_LIMIT``;
- from everywhere: ``ATLAS_LOGIN_GLOBAL_FAILURE_LIMIT``, a ceiling for a spray spread over
  many addresses. Past it every sign-in is refused, right password or not, until failures
  age out of the cool-off; signed-in sessions and API tokens keep working.

A refusal is axes' own lock-out (the web login's "Too many failed sign-ins" page, 429 with
``locked_out`` from the token endpoint), so both sign-in paths obey it. A successful sign-in
clears only its own username's count, so one good account cannot reset an address's count.
"""

from __future__ import annotations

import datetime as dt

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from atlas.client_address import client_address


def _failures(**filters) -> int:
    since = timezone.now() - dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    total = AccessAttempt.objects.filter(attempt_time__gte=since, **filters).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


def sign_in_refused(request: HttpRequest) -> bool:
    """True when recent failures from the client's address, or from everywhere, reach a limit."""
    address = client_address(request)
    if address and _failures(ip_address=address) >= settings.ATLAS_LOGIN_ADDRESS_FAILURE_LIMIT:
        return True
    return _failures() >= settings.ATLAS_LOGIN_GLOBAL_FAILURE_LIMIT


class SignInLimitsHandler(AxesDatabaseHandler):
    """Axes' database handler, locking out also when a per-address or global limit is reached.

    Axes decides "locked" by comparing ``get_failures`` with the failure limit, before a
    password is checked and after a failure is recorded; reporting the limit itself when a
    wider limit is reached makes every one of those places refuse.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        if failures < limit and sign_in_refused(request):
            return limit
        return failures
