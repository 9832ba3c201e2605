"""System checks of the crawler settings."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def allowed_networks_valid(app_configs, **kwargs) -> list[Error]:
    """Every entry of the allow-list must be an IP address or network."""
    errors = []
    for network in settings.ATLAS_CRAWLER_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"ATLAS_CRAWLER_ALLOWED_NETWORKS holds {network!r}, which is not an IP "
                    "address or network.",
                    hint="Use addresses or CIDR networks, e.g. 127.0.0.1 or 10.0.0.0/8.",
                    id="crawlers.E001",
                )
            )
    return errors


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
