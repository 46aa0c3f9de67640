"""Per-case work for the Slack front end: serial within a case, parallel across cases.

The Bolt listeners only check, de-duplicate and enqueue (so the HTTP acknowledgement goes back
at once); :class:`CaseQueue` runs the turns on a bounded pool, and :class:`TrackingExecutor`
is Bolt's listener executor, counting listeners still running so shutdown, tests and the
benchmark can wait until every accepted event has been handled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class CaseQueue:
    """Jobs run serially per key (a case) and in parallel across keys, on a bounded pool."""

    def __init__(self, workers: int, max_pending: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-case")
        self._queues: dict[str, deque[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self.max_pending = max_pending

    def submit(self, key: str, job: Callable[[], None]) -> bool:
        """False when too many jobs are waiting (the caller tells the user to retry)."""
        with self._lock:
            if self._pending >= self.max_pending:
                return False
            self._pending += 1
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(job)
                return True
            self._queues[key] = deque([job])
        self._pool.submit(self._drain, key)
        return True

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    self._idle.notify_all()
                    return
                job = queue[0]
            try:
                job()
            except Exception:  # jobs handle their own errors; this only guards the pool
                log.exception("slack job for %s failed", key)
            with self._lock:
                queue.popleft()
                self._pending -= 1

    @property
    def pending(self) -> int:
        return self._pending

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._queues:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener executor, counting listeners still running (for ``wait_idle``)."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="slack-listener")
        self._count = 0
        self._cond = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._cond:
            self._count += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _f: Future[Any]) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    @property
    def running(self) -> int:
        return self._count

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout)
