"""The scheduled sweep and probe jobs on a real Celery worker, broker and PostgreSQL database.

A worker in another process cannot see the transaction-wrapped test database, so
the test creates and migrates a database of its own. It skips, saying why, when
Redis or PostgreSQL is not answering.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.inference.testserver import ProtocolServer, ServedModel
from tests.realworker import ROOT, worker_database

pytestmark = pytest.mark.worker

REDIS_URL = os.environ.get("ATLAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ALIAS = "inference_worker_db"


@pytest.fixture(scope="module")
def worker_env(django_db_blocker):
    with worker_database(
        django_db_blocker=django_db_blocker,
        alias=ALIAS,
        prefix="atlas_inference_worker",
        redis_url=REDIS_URL,
        migrate_timeout=600,
        extra_env={
            "INFERENCE_RETRY_BACKOFF_MS": "10",
            "INFERENCE_ALLOWED_NETWORKS": "127.0.0.1/32",
        },
    ) as env:
        yield env


def _celery(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "atlas", *args],
        cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout


def _wait_until(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_sweep_runs_each_due_probe_once_on_a_real_worker(worker_env, tmp_path):
    from catalog.models import AIModel, Claim, ClaimKey, Provider, Source, Verification
    from inference.models import Endpoint, ProbeJob

    server = ProtocolServer(models=[ServedModel(id="w-model", embedding_dim=8)]).start()
    db = ALIAS
    # bulk_create: it skips the history signals, which would write to the default database.
    [provider] = Provider.objects.using(db).bulk_create(
        [Provider(slug="worker-ai", name="Worker AI", kind="model_developer")]
    )
    [model] = AIModel.objects.using(db).bulk_create(
        [AIModel(provider=provider, slug="w-model", name="W", api_ids=["w-model"])]
    )
    [source] = Source.objects.using(db).bulk_create(
        [
            Source(
                slug="w-docs", url="https://w.example/", title="t", publisher="p", doc_type="terms"
            )
        ]
    )
    keys = ["json_mode", "streaming", "embeddings", "function_calling", "model_listed"]
    Claim.objects.using(db).bulk_create(
        Claim(
            model=model,
            key=ClaimKey.objects.using(db).get(key=key),
            value_flag="yes",
            source=source,
            checked_at=dt.date(2026, 1, 1),
        )
        for key in keys
    )
    endpoint = Endpoint.objects.using(db).create(
        name="w-endpoint", kind="self_hosted", base_url=server.base_url, provider=provider
    )
    endpoint.served_models.add(model)

    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "atlas", "worker", "-c", "2", "-P", "prefork",
            "-l", "warning", "--without-gossip", "--without-mingle",
            "-n", f"inference-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT, env=worker_env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        _celery(worker_env, "call", "inference.probe_due_claims")
        done = ProbeJob.objects.using(db).filter(status=ProbeJob.Status.DONE)
        _wait_until(
            lambda: done.count() == len(keys),
            timeout=180,
            what=f"the worker to run {len(keys)} probe jobs: {log.read_text()[-2000:]}",
        )
        # A second delivery of a finished job, and a second sweep, change nothing.
        _celery(worker_env, "call", "inference.probe_job", "--args", f"[{done.first().pk}]")
        _celery(worker_env, "call", "inference.probe_due_claims")
        time.sleep(3)
        verifications = Verification.objects.using(db).filter(method="inference_probe")
        assert verifications.count() == len(keys)
        assert set(verifications.values_list("outcome", flat=True)) == {"confirmed"}
        assert ProbeJob.objects.using(db).count() == len(keys)
        posts = [r for r in server.requests if r.method == "POST"]
        assert len(posts) == 5  # json, stream, embeddings, forced and automatic tool call
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        server.stop()


def test_the_judge_sweep_judges_each_claim_once_on_a_real_worker(worker_env, tmp_path):
    import hashlib

    from django.utils import timezone

    from catalog.models import Claim, ClaimKey, Provider, Source, Verification
    from crawlers.models import Version
    from inference.models import Endpoint, JudgeJob

    quote = "Customer content is never used to train our models."
    text = f"Data use\n{quote} It is deleted after 30 days.\nContact us."
    server = ProtocolServer(
        models=[
            ServedModel(
                id="w-judge",
                json_reply={"verdict": "supports", "quote": quote, "reason": "It says so."},
            )
        ]
    ).start()
    db = ALIAS
    # No endpoint serves this provider, so the probe sweep of the other test leaves it alone.
    [provider] = Provider.objects.using(db).bulk_create(
        [Provider(slug="judged-ai", name="Judged AI", kind="model_developer")]
    )
    [source] = Source.objects.using(db).bulk_create(
        [
            Source(
                slug="j-terms", url="https://j.example/", title="t", publisher="p", doc_type="terms"
            )
        ]
    )
    Version.objects.using(db).bulk_create(
        [
            Version(
                source=source,
                number=1,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                text=text,
                cause="first",
                created_at=timezone.now(),
                raw_body=Version.compress(text.encode()),
                raw_size=len(text),
                extractor_revision=1,
            )
        ]
    )
    # Keys no probe tests, made here: the catalogue file's keys are not in a migrated database.
    keys = ["judged_training_use", "judged_commercial_use", "judged_retention"]
    ClaimKey.objects.using(db).bulk_create(
        ClaimKey(key=key, label=key, group="right", value_type="flag") for key in keys
    )
    Claim.objects.using(db).bulk_create(
        Claim(
            provider=provider,
            key=ClaimKey.objects.using(db).get(key=key),
            value_flag="yes",
            source=source,
            evidence_quote=quote,
            checked_at=dt.date(2026, 1, 1),
        )
        for key in keys
    )
    Endpoint.objects.using(db).create(
        name="w-judge", kind="self_hosted", base_url=server.base_url, default_model="w-judge"
    )
    env = {**worker_env, "INFERENCE_JUDGE_ENDPOINT": "w-judge"}

    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "atlas", "worker", "-c", "2", "-P", "prefork",
            "-l", "warning", "--without-gossip", "--without-mingle",
            "-n", f"judge-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        _celery(env, "call", "inference.judge_due_claims", "--kwargs", '{"limit": 10}')
        done = JudgeJob.objects.using(db).filter(status=JudgeJob.Status.DONE)
        _wait_until(
            lambda: done.count() == len(keys),
            timeout=180,
            what=f"the worker to run {len(keys)} judge jobs: {log.read_text()[-2000:]}",
        )
        # A second delivery of a finished job, and a second sweep, change nothing.
        _celery(env, "call", "inference.judge_job", "--args", f"[{done.first().pk}]")
        _celery(env, "call", "inference.judge_due_claims")
        time.sleep(3)
        verifications = Verification.objects.using(db).filter(method="model_judge")
        assert verifications.count() == len(keys)
        assert all(v.evidence["passage_from"]["version_number"] == 1 for v in verifications)
        assert JudgeJob.objects.using(db).count() == len(keys)
        assert len([r for r in server.requests if r.method == "POST"]) == len(keys)
        assert set(Claim.objects.using(db).values_list("status", flat=True)) == {"current"}
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        server.stop()
