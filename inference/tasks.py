"""Celery tasks: one probe or judge job per task, and the sweeps that queue due claims."""

from __future__ import annotations

from celery import shared_task

from inference import judge, services


@shared_task(name="inference.probe_job", acks_late=True)
def probe_job(job_id: int) -> str:
    """Run one queued probe job; a second delivery of the same job does nothing."""
    job = services.probe_job_execute(job_id=job_id)
    return "skipped: already claimed or gone" if job is None else job.status


@shared_task(name="inference.probe_due_claims")
def probe_due_claims(limit: int = 100) -> int:
    """Queue probes for claims whose last probe is older than the interval; returns the count."""
    return len(services.probe_schedule_due(limit=limit))


@shared_task(name="inference.judge_job", acks_late=True)
def judge_job(job_id: int) -> str:
    """Judge one claim on its source's stored passage; a second delivery does nothing."""
    job = judge.judge_job_execute(job_id=job_id)
    return "skipped: already claimed or gone" if job is None else job.status


@shared_task(name="inference.judge_due_claims")
def judge_due_claims(limit: int = 25) -> int:
    """Queue a judgement for each claim whose source has a newer text; returns the count."""
    return len(judge.judge_schedule_due(limit=limit))
