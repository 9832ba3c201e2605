"""Celery tasks: one probe job per task, and the sweep that queues due claims."""

from __future__ import annotations

from celery import shared_task

from crawlers.inference import services


@shared_task(name="inference.probe_job", acks_late=True)
def probe_job(job_id: int) -> str:
    """Run one queued probe job; a second delivery of the same job does nothing."""
    job = services.probe_job_execute(job_id=job_id)
    return "skipped: already claimed or gone" if job is None else job.status


@shared_task(name="inference.probe_due_claims")
def probe_due_claims(limit: int = 100) -> int:
    """Queue probes for claims whose last probe is older than the interval; returns the count."""
    return len(services.probe_schedule_due(limit=limit))
