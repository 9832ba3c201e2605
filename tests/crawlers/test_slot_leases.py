"""Per-host slots in Redis are short leases: a live holder keeps renewing its slot, a killed
one loses it within seconds, so a restarted worker does not wait out the dead one's fetches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crawlers import politeness
from crawlers.errors import CrawlerError
from crawlers.politeness import RedisHostGate

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ATLAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
HOST = "http://127.0.0.1:9"

HOLD_FOREVER = """
import sys, time, django
django.setup()
from crawlers.politeness import RedisHostGate
with RedisHostGate(sys.argv[1]).slot(sys.argv[2], delay=0, deadline=time.monotonic() + 60):
    print("holding", flush=True)
    time.sleep(120)
"""


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


def test_a_killed_holders_slot_is_free_again_within_seconds(settings, redis_url):
    settings.ATLAS_CRAWLER_PER_HOST_CONCURRENCY = 1
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOREVER, redis_url, HOST],
        cwd=ROOT,
        env={
            **os.environ,
            "SECRET_KEY": "x",
            "ATLAS_IGNORE_DOTENV": "1",
            "DJANGO_SETTINGS_MODULE": "atlas.settings",
            "ATLAS_CRAWLER_PER_HOST_CONCURRENCY": "1",
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed = time.monotonic()
        # A fetch with the default 30 s deadline gets the dead holder's slot in seconds.
        with RedisHostGate(redis_url).slot(HOST, delay=0, deadline=killed + 30):
            waited = time.monotonic() - killed
    finally:
        if holder.poll() is None:
            holder.kill()
    assert waited <= politeness.LEASE_SECONDS + 1


def test_a_live_holder_keeps_its_slot_longer_than_a_lease(settings, redis_url, monkeypatch):
    settings.ATLAS_CRAWLER_PER_HOST_CONCURRENCY = 1
    monkeypatch.setattr(politeness, "LEASE_SECONDS", 1.0)
    monkeypatch.setattr(politeness, "RENEW_SECONDS", 0.2)
    holder, waiter = RedisHostGate(redis_url), RedisHostGate(redis_url)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.slot(HOST, delay=0, deadline=time.monotonic() + 10):
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        holding.wait(5)
        with (
            pytest.raises(CrawlerError, match="Too many requests in flight"),
            waiter.slot(HOST, delay=0, deadline=time.monotonic() + 3),
        ):
            pass
    finally:
        done.set()
        thread.join(10)
    with waiter.slot(HOST, delay=0, deadline=time.monotonic() + 3):
        pass
