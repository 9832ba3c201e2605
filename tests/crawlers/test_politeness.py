"""Per-host limits shared through Redis hold across processes (two gates stand for two)."""

from __future__ import annotations

import itertools
import os
import threading
import time

import httpx
import pytest

from crawlers.politeness import RedisHostGate
from tests.crawlers.server import Page

REDIS_URL = os.environ.get("ATLAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def redis_url():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        pytest.skip(f"Redis is not answering at {REDIS_URL} ({exc}); the shared limiter needs it.")
    for key in client.scan_iter("atlas:crawl:*"):
        client.delete(key)
    yield REDIS_URL
    for key in client.scan_iter("atlas:crawl:*"):
        client.delete(key)


def test_two_processes_sharing_redis_keep_the_per_host_limit(server, settings, redis_url):
    settings.ATLAS_CRAWLER_PER_HOST_CONCURRENCY = 2
    server.route("/page", Page("ok"))
    server.latency = 0.3
    gates = [RedisHostGate(redis_url), RedisHostGate(redis_url)]
    errors = []

    def one(gate):
        try:
            with gate.slot("http://127.0.0.1:1", delay=0, deadline=time.monotonic() + 10):
                httpx.get(server.url("/page"), timeout=5)
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(gates[i % 2],)) for i in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert server.max_in_flight == 2
    assert time.monotonic() - started >= 0.85  # three rounds of 0.3 s


def test_the_politeness_delay_is_shared_too(settings, redis_url):
    gates = [RedisHostGate(redis_url), RedisHostGate(redis_url)]
    starts = []
    for i in range(3):
        with gates[i % 2].slot("http://127.0.0.1:2", delay=0.25, deadline=time.monotonic() + 5):
            starts.append(time.monotonic())
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.2 for gap in gaps), gaps


def test_the_fetch_module_uses_the_shared_gate_when_configured(settings, redis_url):
    from crawlers.politeness import HostGate, gate

    settings.ATLAS_CRAWLER_HOST_LIMIT_URL = redis_url
    assert isinstance(gate(), RedisHostGate)
    settings.ATLAS_CRAWLER_HOST_LIMIT_URL = ""
    assert isinstance(gate(), HostGate)


def test_a_process_waiting_for_a_slot_is_woken_when_the_holder_hands_it_back(
    settings, redis_url, monkeypatch
):
    from crawlers import politeness
    from crawlers.errors import CrawlerError

    settings.ATLAS_CRAWLER_PER_HOST_CONCURRENCY = 1
    # Without the hand-back the waiter would sleep past its deadline and give up.
    monkeypatch.setattr(politeness, "WAKE_UP_SECONDS", 60)
    holder, waiter = RedisHostGate(redis_url), RedisHostGate(redis_url)
    holding, outcome = threading.Event(), []

    def wait_for_the_slot():
        holding.wait()
        try:
            with waiter.slot("http://127.0.0.1:3", delay=0, deadline=time.monotonic() + 5):
                outcome.append("got the slot")
        except CrawlerError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=wait_for_the_slot)
    thread.start()
    with holder.slot("http://127.0.0.1:3", delay=0, deadline=time.monotonic() + 5):
        holding.set()
        time.sleep(0.5)  # the waiter finds the only slot taken and blocks
    thread.join(timeout=10)
    assert outcome == ["got the slot"]
