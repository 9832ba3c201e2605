from __future__ import annotations

from django.apps import AppConfig


class CrawlersConfig(AppConfig):
    name = "crawlers"
    verbose_name = "Source crawlers"

    def ready(self) -> None:
        from crawlers import checks  # noqa: F401  (registers the system checks)
