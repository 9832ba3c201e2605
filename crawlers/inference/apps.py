from __future__ import annotations

from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "crawlers.inference"
    label = "inference"
    verbose_name = "Inference tester"

    def ready(self) -> None:
        # Celery's autodiscovery walks INSTALLED_APPS by app name, which finds
        # ``crawlers.inference.tasks``; importing it here as well registers the
        # tasks in processes that never call autodiscover (the test run, shell).
        from crawlers.inference import admin_actions, tasks  # noqa: F401

        admin_actions.attach_to_claim_admin()
