"""Front-end state shared by every instance on one store: the event ledger (a delivered event
is claimed once across instances, with a TTL) and front-end settings (e.g. a channel's mode)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from assistant.store.tables import aware as _aware
from assistant.store.tables import front_events, front_instances, front_settings, now

if TYPE_CHECKING:
    from assistant.store.cases import CaseStore


class EventLedger:
    """Which delivered events have been taken, by which instance, and which are done.

    ``claim`` is atomic across threads and processes (a primary-key insert; on PostgreSQL a
    row lock decides a takeover). An event claimed by an instance that stopped showing signs
    of life (``heartbeat``) for ``lease_s`` may be claimed again, so a retry after a crash is
    still answered; a ``done`` event never is. Rows expire after ``ttl_s``.
    """

    def __init__(self, store: CaseStore, *, owner: str, ttl_s: float, lease_s: float) -> None:
        self.engine = store.engine
        self.owner = owner
        self.ttl = timedelta(seconds=ttl_s)
        self.lease = timedelta(seconds=lease_s)

    def heartbeat(self) -> None:
        """This instance is alive; also forgets expired events and long-gone instances."""
        ts = now()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(front_instances).where(front_instances.c.id == self.owner).values(seen_at=ts)
            ).rowcount
            if not done:
                conn.execute(insert(front_instances).values(id=self.owner, seen_at=ts))
            conn.execute(delete(front_events).where(front_events.c.expires_at < ts))
            conn.execute(delete(front_instances).where(front_instances.c.seen_at < ts - self.ttl))

    def _alive(self, conn: Connection, owner: str, ts: datetime) -> bool:
        seen = conn.execute(
            select(front_instances.c.seen_at).where(front_instances.c.id == owner)
        ).scalar_one_or_none()
        return seen is not None and _aware(seen) >= ts - self.lease

    def claim(self, key: str, *, thread: str, seq: str) -> bool:
        """True exactly once per event (or again after its claimant died without finishing)."""
        ts = now()
        row = {
            "key": key,
            "thread": thread,
            "seq": seq,
            "status": "claimed",
            "owner": self.owner,
            "claimed_at": ts,
            "expires_at": ts + self.ttl,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(front_events).values(**row))
            return True
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            held = conn.execute(
                select(front_events.c.status, front_events.c.owner, front_events.c.expires_at)
                .where(front_events.c.key == key)
                .with_for_update()
            ).first()
            if held is None:  # expired and purged in between: take it
                conn.execute(insert(front_events).values(**row))
                return True
            if held.status == "done" and _aware(held.expires_at) >= ts:
                return False
            live = held.owner == self.owner or self._alive(conn, held.owner, ts)
            if held.status == "claimed" and _aware(held.expires_at) >= ts and live:
                return False
            conn.execute(update(front_events).where(front_events.c.key == key).values(**row))
            return True

    def finish(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(front_events).where(front_events.c.key == key).values(status="done")
            )

    def release(self, key: str) -> None:
        """Give an unfinished event back (a retry may take it at once)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(front_events).where(
                    front_events.c.key == key,
                    front_events.c.owner == self.owner,
                    front_events.c.status == "claimed",
                )
            )

    def knows_thread(self, thread: str) -> bool:
        """Has any instance taken an event in ``thread`` (within the TTL)?"""
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    select(front_events.c.key).where(front_events.c.thread == thread).limit(1)
                ).first()
                is not None
            )

    def earlier_pending(self, thread: str, seq: str, key: str) -> bool:
        """Is an earlier event of ``thread`` claimed by another live instance, not done yet?

        (Events this instance holds are ordered by its own per-case queue.)"""
        ts = now()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(front_events.c.owner).where(
                    front_events.c.thread == thread,
                    front_events.c.status == "claimed",
                    front_events.c.seq < seq,
                    front_events.c.key != key,
                    front_events.c.expires_at >= ts,
                )
            ).all()
            return any(r.owner != self.owner and self._alive(conn, r.owner, ts) for r in rows)

    def leave(self) -> None:
        """A clean shutdown: unfinished claims go back, this instance is forgotten."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(front_events).where(
                    front_events.c.owner == self.owner, front_events.c.status == "claimed"
                )
            )
            conn.execute(delete(front_instances).where(front_instances.c.id == self.owner))


def read_front_setting(store: CaseStore, key: str) -> Any:
    """A front end's shared setting (e.g. a Slack channel's mode), None when unset."""
    with store.engine.connect() as conn:
        return conn.execute(
            select(front_settings.c.value).where(front_settings.c.key == key)
        ).scalar_one_or_none()


def write_front_setting(store: CaseStore, key: str, value: Any) -> None:
    """Set it for every instance sharing this store (None deletes it)."""
    with store.engine.begin() as conn:
        conn.execute(delete(front_settings).where(front_settings.c.key == key))
        if value is not None:
            conn.execute(insert(front_settings).values(key=key, value=value, updated_at=now()))
