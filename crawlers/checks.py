"""System checks of the crawler settings."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def allowed_networks_empty(app_configs, **kwargs) -> list[Warning]:
    """Warn on `check --deploy` when fetches may reach private or loopback addresses."""
    networks = settings.ATLAS_CRAWLER_ALLOWED_NETWORKS
    if not networks:
        return []
    return [
        Warning(
            f"ATLAS_CRAWLER_ALLOWED_NETWORKS is not empty ({', '.join(networks)}): the source "
            "crawler may fetch these private or loopback addresses.",
            hint="Leave it empty in production; it exists for tests and local fixture servers.",
            id="crawlers.W001",
        )
    ]
