from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def atlas(request: HttpRequest) -> dict:
    return {"freshness_days": settings.ATLAS_FRESHNESS_DAYS}
