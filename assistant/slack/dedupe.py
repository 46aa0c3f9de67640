"""Slack events answered once across instances and restarts, in thread order.

Each user message is claimed in the store's event ledger (SQLite for one instance,
PostgreSQL for several) under ``msg:<team>:<channel>:<ts>``: Slack's retries
(``X-Slack-Retry-Num``), the app_mention + message pair Slack sends for one message, and a
retry that reaches another instance, or this one after a restart, all find the claim and
stop. A claim whose instance died before answering (no heartbeat for ``slack.lease_s``) is
taken over by the next retry. Before a turn runs, it waits while an earlier message of the
same thread is still being answered by another live instance.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from assistant.store import CaseStore, EventLedger

log = logging.getLogger(__name__)

POLL_S = 0.05
MAX_ORDER_WAIT_S = 300.0


def instance_id() -> str:
    """Unique per process: host, pid and a random suffix."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SlackLedger:
    """The store's :class:`EventLedger` plus this instance's heartbeat thread."""

    def __init__(self, store: CaseStore, *, ttl_s: float, lease_s: float) -> None:
        self.ledger = EventLedger(store, owner=instance_id(), ttl_s=ttl_s, lease_s=lease_s)
        self.lease_s = lease_s
        self._stop = threading.Event()
        self.ledger.heartbeat()
        self._thread = threading.Thread(target=self._beat, name="slack-heartbeat", daemon=True)
        self._thread.start()

    @property
    def owner(self) -> str:
        return self.ledger.owner

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self.ledger.heartbeat()
            except Exception as exc:  # the store is down: claims age; retried next beat
                log.warning("slack: heartbeat failed: %s", exc)

    def claim(self, key: str, *, thread: str, seq: str) -> bool:
        return self.ledger.claim(key, thread=thread, seq=seq)

    def finish(self, key: str) -> None:
        self.ledger.finish(key)

    def release(self, key: str) -> None:
        self.ledger.release(key)

    def knows_thread(self, thread: str) -> bool:
        return self.ledger.knows_thread(thread)

    def wait_turn(self, thread: str, seq: str, key: str) -> None:
        """Until no earlier message of ``thread`` is in progress on another instance."""
        deadline = time.monotonic() + max(self.lease_s, MAX_ORDER_WAIT_S)
        while self.ledger.earlier_pending(thread, seq, key):
            if time.monotonic() > deadline:
                log.warning("slack: %s waited too long for an earlier message; going on", key)
                return
            time.sleep(POLL_S)

    def close(self) -> None:
        """Stop the heartbeat and hand back unfinished claims (a clean shutdown)."""
        self._stop.set()
        self._thread.join(5)
        try:
            self.ledger.leave()
        except Exception as exc:
            log.warning("slack: could not release claims on shutdown: %s", exc)
