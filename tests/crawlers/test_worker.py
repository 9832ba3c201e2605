"""Real Celery workers on a real Redis broker, against a PostgreSQL database of their own.

The test creates a dedicated database (a worker in another process cannot see the
transaction-wrapped test database), migrates it, queues checks with the management command
and starts ``celery -A atlas worker`` subprocesses. It skips, saying why, when Redis or
PostgreSQL is not answering.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.crawlers.server import Page
from tests.realworker import ROOT, worker_database

pytestmark = pytest.mark.worker

REDIS_URL = os.environ.get("ATLAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ALIAS = "worker_db"
SOURCES = 200


@pytest.fixture(scope="module")
def worker_env(fixture_server, django_db_blocker):
    """A migrated database, a clean broker database, and the environment for subprocesses."""
    with worker_database(
        django_db_blocker=django_db_blocker,
        alias=ALIAS,
        prefix="atlas_worker_test",
        redis_url=REDIS_URL,
        fast_commits=True,
        extra_env={
            # The broker's re-delivery settings are the defaults: recovery is what they give.
            "ATLAS_CRAWLER_ALLOWED_NETWORKS": "127.0.0.1/32",
            "ATLAS_CRAWLER_POLITENESS_MS": "0",
            "ATLAS_CRAWLER_RETRY_BASE_SECONDS": "1",
            "ATLAS_CRAWLER_SWEEP_LIMIT": str(SOURCES),
        },
    ) as env:
        yield env


# The two ways the README runs workers: `make worker` (prefork, every queue) and
# `make crawl-worker` (threads, the crawl queue only, with a pool of database connections).
POOLS = {
    "prefork": (["-Q", "celery,crawl", "-P", "prefork", "-c", "2"], {}),
    "threads": (["-Q", "crawl", "-P", "threads", "-c", "8"], {"DATABASE_POOL_SIZE": "8"}),
}


def _start_worker(env: dict, log: Path, pool: str) -> subprocess.Popen:
    arguments, pool_env = POOLS[pool]
    handle = log.open("ab")
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "atlas", "worker", *arguments,
            "-l", "warning", "--without-gossip", "--without-mingle",
            "-n", f"test-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT, env=env | pool_env, stdout=handle, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _sources(prefix: str, server, *, with_claims: int = 0) -> list[int]:
    from catalog.models import Claim, ClaimKey, Provider, Source
    from crawlers.models import CrawlSettings

    # bulk_create throughout: it skips the history signals, which write to the default database.
    provider = Provider.objects.using(ALIAS).filter(slug="worker-ai").first()
    if provider is None:
        [provider] = Provider.objects.using(ALIAS).bulk_create(
            [Provider(slug="worker-ai", name="Worker AI", kind="model_developer")]
        )
    key = ClaimKey.objects.using(ALIAS).filter(key="worker-key").first()
    if key is None:
        [key] = ClaimKey.objects.using(ALIAS).bulk_create(
            [ClaimKey(key="worker-key", label="Key", group="right", value_type="text")]
        )
    sources = Source.objects.using(ALIAS).bulk_create(
        Source(slug=f"{prefix}-{i}", url=server.url(f"/{prefix}/{i}"), title=f"{prefix} {i}",
               publisher="Worker AI",
               doc_type="terms")
        for i in range(SOURCES)
    )  # fmt: skip
    CrawlSettings.objects.using(ALIAS).bulk_create(CrawlSettings(source=s) for s in sources)
    Claim.objects.using(ALIAS).bulk_create(
        Claim(provider=provider, key=key, value_text="yes", source=s,
              evidence_quote=f"Clause {i} of the {prefix} terms.", checked_at="2024-01-01")
        for i, s in enumerate(sources[:with_claims])
    )  # fmt: skip
    for i in range(SOURCES):
        server.route(
            f"/{prefix}/{i}",
            Page(f"<main><h1>{prefix} {i}</h1><p>Clause {i} of the {prefix} terms.</p></main>"),
        )
    return [s.pk for s in sources]


def _queue_due(env: dict) -> None:
    out = subprocess.run(
        [sys.executable, "manage.py", "check_sources", "--due", "--limit", str(SOURCES)],
        cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True,
    )  # fmt: skip
    assert f"{SOURCES} checks queued for the workers." in out.stdout


def _count(source_ids, **filters) -> int:
    from crawlers.models import Check

    return Check.objects.using(ALIAS).filter(source_id__in=source_ids, **filters).count()


def _wait_until(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _checks_in_flight() -> set[int]:
    """The checks whose tasks the broker handed out and nobody acknowledged (kombu's Redis
    transport keeps them in the ``unacked`` hash until acknowledged or put back)."""
    import redis

    broker = redis.Redis.from_url(REDIS_URL)
    in_flight = set()
    for payload in broker.hvals("unacked"):
        message = json.loads(payload)[0]
        body = base64.b64decode(message["body"])
        in_flight.add(json.loads(body)[0][0])  # Celery's message body: [args, kwargs, embed]
    return in_flight


def _sessions_opened() -> int:
    """PostgreSQL sessions ever opened on the workers' database, once the workers have ended."""
    from django.db import connections

    with connections[ALIAS].cursor() as cursor:
        for _ in range(60):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.25)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_a_sweep_of_200_sources_completes_though_a_worker_is_killed_mid_sweep(
    worker_env, server, tmp_path, pool
):
    from catalog.models import Verification
    from crawlers.models import Check, Version

    ids = _sources(f"sweep-{pool}", server, with_claims=SOURCES)
    server.latency = 0.02
    _queue_due(worker_env)
    sessions_before = _sessions_opened()
    log = tmp_path / "worker.log"
    first = _start_worker(worker_env, log, pool)
    try:
        _wait_until(
            lambda: _count(ids, status=Check.Status.DONE) >= 20,
            timeout=120,
            what=f"the first worker to finish some checks: {log.read_text()[-2000:]}",
        )
    finally:
        _stop(first, signal.SIGKILL)
    killed_at = time.monotonic()
    in_flight = _checks_in_flight()
    assert in_flight, "the kill caught checks in flight"
    assert _count(ids, status=Check.Status.DONE) < SOURCES, "finished before the kill"

    second = _start_worker(worker_env, log, pool)
    try:
        # The broker hands the dead worker's checks out again within a minute of the kill.
        _wait_until(
            lambda: (
                Check.objects.using(ALIAS)
                .filter(pk__in=in_flight, status=Check.Status.DONE)
                .count()
                == len(in_flight)
            ),
            timeout=60 - (time.monotonic() - killed_at),
            what=f"the killed worker's checks to run again: {log.read_text()[-2000:]}",
        )
        # The rest of the sweep: how long it takes depends on the machine's load, not on
        # recovery, which the wait above bounds; this bound only stops a hung run.
        _wait_until(
            lambda: _count(ids, status=Check.Status.DONE) == SOURCES,
            timeout=300,
            what=f"the second worker to finish the sweep: {log.read_text()[-2000:]}",
        )
    finally:
        _stop(second)
    # The restarted worker did not wait on the per-host slots the dead one held: no other
    # check failed for want of a slot (or ran out of time waiting) and had to be retried.
    retried = Check.objects.using(ALIAS).filter(source_id__in=ids, attempts__gt=1)
    assert set(retried.values_list("pk", flat=True)) <= in_flight
    if pool == "threads":
        # Each of the two workers opened at most its pool's 8 connections for 200 checks
        # (Celery closes a task's connection after it; without the pool, that is a session
        # per check).
        assert _sessions_opened() - sessions_before <= 2 * 8 + 2

    assert _count(ids) == SOURCES  # one check per source: none lost, none doubled
    assert _count(ids, outcome=Check.Outcome.FIRST) == SOURCES
    versions = Version.objects.using(ALIAS).filter(source_id__in=ids)
    assert versions.count() == SOURCES
    assert set(versions.values_list("source_id", flat=True)) == set(ids)
    verifications = Verification.objects.using(ALIAS).filter(claim__source_id__in=ids)
    assert verifications.count() == SOURCES  # each claim verified exactly once
    assert set(verifications.values_list("outcome", flat=True)) == {"confirmed"}
