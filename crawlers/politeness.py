"""Per-host limits for outbound fetches: at most N requests in flight, a gap between starts.

``HostGate`` keeps the counts in this process (enough for one worker process with a threads
pool, and for in-process runs). ``RedisHostGate`` keeps them in Redis, so every worker process
on every machine shares one limit per host. A slot there is a short lease (``LEASE_SECONDS``)
that the holding process renews while the fetch runs, so a worker killed while holding one
frees it within seconds, and a restarted worker does not spend its first fetches' deadlines
waiting for the dead one's slots. Both raise ``CrawlerError`` (transient) when no slot comes
free before the fetch's deadline. ``gate()`` gives the one a fetch uses, as configured.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from contextlib import contextmanager, suppress

from django.conf import settings

from crawlers.errors import CrawlerError

POLL_SECONDS = 0.05
# Longest wait for a slot between two attempts when no holder hands one back (a dead holder's
# lease running out is the only way a slot frees silently).
WAKE_UP_SECONDS = 0.5
# A held slot's lease, and how often its holder renews it: a slot whose holder died is free
# again at most LEASE_SECONDS later. Renewed three times a lease, so one late renewal (a busy
# machine) does not lose a live holder its slot.
LEASE_SECONDS = 6.0
RENEW_SECONDS = 2.0


class HostGate:
    """In-process limiter."""

    url = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, key: str, *, delay: float, deadline: float):
        with self._lock:
            semaphore = self._slots.get(key)
            if semaphore is None:
                limit = settings.ATLAS_CRAWLER_PER_HOST_CONCURRENCY
                semaphore = self._slots[key] = threading.BoundedSemaphore(limit)
        if not semaphore.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise CrawlerError(f"Too many requests in flight to {key}; try later.", permanent=False)
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(key, 0.0))
                self._next_start[key] = start + delay
            _wait_until_start(key, start - now, deadline)
            yield
        finally:
            semaphore.release()


def _wait_until_start(key: str, seconds: float, deadline: float) -> None:
    if seconds <= 0:
        return
    if time.monotonic() + seconds > deadline:
        raise CrawlerError(f"The politeness delay for {key} exceeds the deadline.", permanent=False)
    time.sleep(seconds)


# Takes a slot if fewer than the limit are leased, and books the next start time, atomically.
# Returns the milliseconds to wait before starting, or -1 when every slot is taken. Redis's own
# clock is used, so workers on different machines agree.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
local delay = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return -1
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 2)
local booked = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(now, booked)
redis.call('SET', KEYS[2], start + delay, 'PX', delay + 60000)
return start - now
"""


# Extends the leases of the slots this process holds (KEYS[i] holds ARGV[i + 1]); a lease that
# already ran out, and was taken from a process thought dead, is not brought back (XX).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', key, lease * 2)
end
"""


# Gives the slot back and wakes one waiting process; the wake-up list holds at most one token
# per slot and expires, so tokens nobody waited for cost one spare attempt at most.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[2], 60000)
"""


class RedisHostGate:
    """Limiter shared by every process that uses the same Redis database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pid = -1
        self._client = None
        self._acquire = None
        self._release = None
        self._renew = None
        self._lock = threading.Lock()
        # The slots this process holds, as (slots key, token): what the renewer keeps alive.
        self._held: set[tuple[str, str]] = set()
        self._renewer_pid = -1

    def _redis(self):
        import redis

        with self._lock:
            # A forked worker child opens its own connections and renews its own slots.
            if self._pid != os.getpid():
                self._client = redis.Redis.from_url(
                    self.url, socket_timeout=5, socket_connect_timeout=5
                )
                self._acquire = self._client.register_script(_ACQUIRE)
                self._release = self._client.register_script(_RELEASE)
                self._renew = self._client.register_script(_RENEW)
                self._held = set()
                self._pid = os.getpid()
            return self._client, self._acquire, self._release

    def _hold(self, slots: str, token: str) -> None:
        with self._lock:
            self._held.add((slots, token))
            if self._renewer_pid != os.getpid():
                self._renewer_pid = os.getpid()
                threading.Thread(
                    target=self._renew_held, name="atlas-slot-leases", daemon=True
                ).start()

    def _let_go(self, slots: str, token: str) -> None:
        with self._lock:
            self._held.discard((slots, token))

    def _renew_held(self) -> None:
        """Renew every held slot's lease until none is held (one thread per process)."""
        import redis

        while True:
            time.sleep(RENEW_SECONDS)
            with self._lock:
                held = sorted(self._held)
                renew = self._renew
                if not held:
                    self._renewer_pid = -1  # the next slot taken starts a renewer again
                    return
            with suppress(redis.RedisError):
                renew(
                    keys=[slots for slots, _token in held],
                    args=[int(LEASE_SECONDS * 1000)] + [token for _slots, token in held],
                )

    @contextmanager
    def slot(self, key: str, *, delay: float, deadline: float):
        import redis

        client, acquire, release = self._redis()
        slots, booked = f"atlas:crawl:slots:{key}", f"atlas:crawl:next:{key}"
        freed = f"atlas:crawl:freed:{key}"
        token = uuid.uuid4().hex
        limit = settings.ATLAS_CRAWLER_PER_HOST_CONCURRENCY
        lease_ms = int(LEASE_SECONDS * 1000)
        while True:
            try:
                wait_ms = acquire(
                    keys=[slots, booked], args=[token, limit, lease_ms, int(delay * 1000)]
                )
            except redis.RedisError as exc:
                raise CrawlerError(
                    f"The shared host limiter is unavailable ({exc}).", permanent=False
                ) from None
            if wait_ms >= 0:
                break
            remaining = deadline - time.monotonic()
            if remaining < POLL_SECONDS:
                raise CrawlerError(
                    f"Too many requests in flight to {key}; try later.", permanent=False
                )
            # Sleep until a holder hands its slot back (it pushes to the host's wake-up list)
            # rather than a fixed poll interval, so a freed slot is not left idle; the
            # timeout still notices a slot whose holder died and whose lease ran out.
            try:
                client.blpop([freed], timeout=min(WAKE_UP_SECONDS, remaining))
            except redis.RedisError as exc:
                raise CrawlerError(
                    f"The shared host limiter is unavailable ({exc}).", permanent=False
                ) from None
        self._hold(slots, token)
        try:
            _wait_until_start(key, wait_ms / 1000, deadline)
            yield
        finally:
            self._let_go(slots, token)
            with suppress(redis.RedisError):
                release(keys=[slots, freed], args=[token, limit])


_gate: HostGate | RedisHostGate | None = None
_gate_lock = threading.Lock()


def gate() -> HostGate | RedisHostGate:
    """The per-host limiter: shared through Redis when one is configured, else in-process."""
    global _gate
    with _gate_lock:
        url = settings.ATLAS_CRAWLER_HOST_LIMIT_URL
        if _gate is None or getattr(_gate, "url", "") != url:
            _gate = RedisHostGate(url) if url else HostGate()
        return _gate


def gate_forget() -> None:
    """Drop the limiter and its host timings (tests, and a worker after settings change)."""
    global _gate
    with _gate_lock:
        _gate = None


def delay() -> float:
    """The gap, in seconds, between the starts of two requests to one host."""
    return settings.ATLAS_CRAWLER_POLITENESS_MS / 1000
