from __future__ import annotations

from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    label = "inference"
    verbose_name = "Inference tester"

    def ready(self) -> None:
        # Celery's autodiscovery walks INSTALLED_APPS by app name, which finds
        # ``inference.tasks``; importing it here as well registers the
        # tasks in processes that never call autodiscover (the test run, shell).
        from inference import tasks  # noqa: F401
