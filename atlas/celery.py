"""The Celery application.

With ``CELERY_BROKER_URL`` unset, settings make every task run in-process
(``task_always_eager``), so ``make run`` needs no broker. With it set, run a
worker and a beat as separate processes (see the README).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atlas.settings")

app = Celery("atlas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
