"""The Celery application.

With ``CELERY_BROKER_URL`` unset, settings make every task run in-process
(``task_always_eager``), so ``make run`` needs no broker. With it set, run a
worker and a beat as separate processes (see the README).

On a Redis broker a task is acknowledged only when it ends (``acks_late``); one whose worker
died is handed to another worker once it has gone unclaimed for the broker's visibility
timeout. That timeout is short (``CELERY_VISIBILITY_TIMEOUT``, 30 s), so a killed worker's
checks run again within a minute; a live worker renews the claim on every task it holds
(running, or waiting for its countdown) every third of the timeout, so no task that is alive
is handed out twice, however long it runs or waits.
"""

from __future__ import annotations

import logging
import os
import time

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atlas.settings")

logger = logging.getLogger(__name__)

app = Celery("atlas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class RenewUnacknowledged(bootsteps.StartStopStep):
    """Keeps the broker from re-delivering the tasks this worker holds while it is alive.

    kombu's Redis transport notes when it delivered each unacknowledged task (a sorted set
    scored by time) and any worker puts back into the queue those older than the visibility
    timeout. Re-scoring this worker's own tasks to "now" at intervals leaves only a dead
    worker's tasks to age out. Other transports have their own ways and are left alone.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self._timer_entry = None

    def start(self, parent) -> None:
        options = parent.app.conf.broker_transport_options or {}
        interval = max(1.0, float(options.get("visibility_timeout", 3600)) / 3)
        self._timer_entry = parent.timer.call_repeatedly(interval, self.renew, (parent,))

    def stop(self, parent) -> None:
        if self._timer_entry is not None:
            self._timer_entry.cancel()
            self._timer_entry = None

    def renew(self, parent) -> None:
        consumer = getattr(parent, "task_consumer", None)
        channel = getattr(consumer, "channel", None)
        index = getattr(channel, "unacked_index_key", None)
        if index is None:
            return  # not the Redis transport
        qos = channel.qos
        tags: list = []
        for _attempt in range(3):
            try:
                # Acknowledgements from a threads pool change this dict from other threads.
                tags = list(qos._delivered)
                break
            except RuntimeError:
                continue
        if not tags:
            return
        now = time.time()
        try:
            with channel.conn_or_acquire() as client:
                # XX: a task acknowledged (or already put back) meanwhile is not brought back.
                client.zadd(index, dict.fromkeys(tags, now), xx=True)
        except Exception:  # the broker being away must not stop the worker; retried next time
            logger.warning("Could not renew the claim on %d tasks", len(tags), exc_info=True)


app.steps["consumer"].add(RenewUnacknowledged)
