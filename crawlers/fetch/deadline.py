"""The deadline on a whole exchange: a watchdog shuts the socket down when it passes.

A connect timeout and a read timeout do not bound an exchange: a server that drips a byte
every few seconds never trips either. ``Watchdog(deadline)`` is armed with the connected
socket and shuts it down at the deadline, whatever the read is waiting for; the read then
fails and the caller reports the deadline (``fired``). ``cancel()`` once the exchange ends.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from contextlib import suppress


class Watchdog:
    """Shuts the socket down when the deadline passes, whatever the read is waiting for."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.cancelled = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        _watchdog_keeper().watch(self)

    def arm(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            if self.fired:
                self._shutdown()

    def fire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            with suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._socket = None


class _Keeper:
    """One thread per process fires every watchdog whose deadline has passed.

    A timer thread per request cost more CPU than the rest of the exchange; this thread
    sleeps until the earliest deadline and is woken only when an earlier one arrives.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()
        thread = threading.Thread(target=self._run, name="atlas-fetch-watchdog", daemon=True)
        thread.start()

    def watch(self, watchdog: Watchdog) -> None:
        with self._condition:
            if len(self._heap) > 4096:
                # Cancelled watchdogs wait for their deadline in the heap; drop them in bulk.
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (watchdog.deadline, next(self._order), watchdog))
            if self._heap[0][2] is watchdog:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        due = heapq.heappop(self._heap)[2]
                        break
                    self._condition.wait(self._heap[0][0] - now if self._heap else None)
            due.fire()


_keeper: tuple[int, _Keeper] | None = None
_keeper_lock = threading.Lock()


def _watchdog_keeper() -> _Keeper:
    global _keeper
    with _keeper_lock:
        # One per process: a forked worker child has none of its parent's threads.
        if _keeper is None or _keeper[0] != os.getpid():
            _keeper = (os.getpid(), _Keeper())
        return _keeper[1]
