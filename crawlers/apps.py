from __future__ import annotations

from django.apps import AppConfig


class CrawlersConfig(AppConfig):
    name = "crawlers"
    verbose_name = "Source crawlers"
