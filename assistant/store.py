"""Case storage: turns, case state, attachments by content hash, and the audit log.

One SQLAlchemy code path for SQLite (default, one file, WAL) and PostgreSQL (multi-instance).
A turn is committed in one transaction together with the case state and its audit entries,
so a crash (even ``kill -9``) leaves either the whole turn or none of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from assistant.core.errors import CaseNotFoundError, StoreError
from assistant.core.schema import Mode, Turn
from assistant.core.state import CaseState, empty_case

metadata = MetaData()
SCHEMA_LOCK = 0x636C696E61737369  # PostgreSQL advisory lock held while creating tables

cases = Table(
    "cases",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("turns", Integer, nullable=False, default=0),
    Column("state", JSON, nullable=False),
)

turns = Table(
    "turns",
    metadata,
    Column("case_id", String(200), ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("user_text", Text, nullable=False),
    Column("turn", JSON, nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

case_blobs = Table(
    "case_blobs",
    metadata,
    Column("case_id", String(200), primary_key=True),
    Column("sha256", String(64), primary_key=True, index=True),
)
"""Which case holds which blob: a case reads only its own; a blob goes with its last case."""

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(200), nullable=False, index=True),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("tool", String(50)),
    Column("args", JSON),
    Column("ok", Boolean),
    Column("ms", Integer),
    Column("detail", Text),
)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CaseSummary:
    id: str
    mode: Mode
    created_at: datetime
    updated_at: datetime
    turns: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mode": self.mode,
            "created_at": self.created_at.isoformat(),
            "last_activity": self.updated_at.isoformat(),
            "turns": self.turns,
        }


@dataclass(frozen=True)
class Blob:
    """An attachment's bytes, stored by content hash with the turn that brings it."""

    data: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class AuditEntry:
    actor: str
    action: str
    tool: str | None = None
    args: dict[str, Any] | None = None
    ok: bool | None = None
    ms: int | None = None
    detail: str | None = None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class CaseStore:
    """All persistent state of cases. Thread-safe; safe across processes on SQLite and Postgres."""

    def __init__(self, url: str, *, busy_timeout_s: float = 30.0) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._case_locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        if self.is_sqlite:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False}
            )
            timeout_ms = int(busy_timeout_s * 1000)

            @event.listens_for(self.engine, "connect")
            def _sqlite_connect(dbapi_conn: Any, _rec: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute(f"PRAGMA busy_timeout={timeout_ms}")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _sqlite_begin(conn: Connection) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        try:
            if self.is_sqlite:
                metadata.create_all(self.engine)
            else:  # instances starting together on a new database: one creates the tables
                with self.engine.begin() as conn:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
                    metadata.create_all(conn)
        except OperationalError as exc:
            raise StoreError(
                f"cannot open the case store at {self._safe_url()}: {exc.orig}"
            ) from exc
        self._link_legacy_blobs()

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # -- serialization -------------------------------------------------------------------
    @contextmanager
    def case_lock(self, case_id: str) -> Iterator[None]:
        """Serialize turns on one case (in-process, and across instances on PostgreSQL)."""
        with self._guard:
            lock = self._case_locks.setdefault(case_id, threading.RLock())
        with lock:
            if self.is_sqlite:
                yield
                return
            with self.engine.connect() as conn:
                key = int.from_bytes(
                    hashlib.sha256(case_id.encode()).digest()[:8], "big", signed=True
                )
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()

    # -- blobs ---------------------------------------------------------------------------
    def put_blob(self, data: bytes, media_type: str, *, case_id: str) -> str:
        """Store ``data`` (once per content) as an attachment of ``case_id``; its SHA-256."""
        blob = Blob(data, media_type)
        with self.engine.begin() as conn:
            self._put_blobs(conn, case_id, [blob])
        return blob.sha256

    def _put_blobs(self, conn: Connection, case_id: str, items: list[Blob]) -> None:
        for blob in items:
            sha = blob.sha256
            if conn.execute(select(blobs.c.sha256).where(blobs.c.sha256 == sha)).first() is None:
                # stored concurrently by another turn: the same content, nothing to do
                with contextlib.suppress(IntegrityError), conn.begin_nested():
                    conn.execute(
                        insert(blobs).values(
                            sha256=sha,
                            size=len(blob.data),
                            media_type=blob.media_type,
                            created_at=now(),
                            data=blob.data,
                        )
                    )
            linked = conn.execute(
                select(case_blobs.c.sha256).where(
                    case_blobs.c.case_id == case_id, case_blobs.c.sha256 == sha
                )
            ).first()
            if linked is None:
                with contextlib.suppress(IntegrityError), conn.begin_nested():
                    conn.execute(insert(case_blobs).values(case_id=case_id, sha256=sha))

    def get_blob(self, sha256: str, *, case_id: str) -> bytes:
        """An attachment's bytes, only if it is attached to ``case_id``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(blobs.c.data)
                .join(case_blobs, case_blobs.c.sha256 == blobs.c.sha256)
                .where(blobs.c.sha256 == sha256, case_blobs.c.case_id == case_id)
            ).first()
        if row is None:
            raise StoreError(f"attachment {sha256[:12]}… is not attached to case {case_id!r}")
        return bytes(row[0])

    def case_blob_ids(self, case_id: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(case_blobs.c.sha256).where(case_blobs.c.case_id == case_id)
            ).all()
        return sorted(r.sha256 for r in rows)

    def count_blobs(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(blobs)).scalar_one())

    def _unlink_blobs(self, conn: Connection, case_id: str) -> None:
        """Drop a case's links; a blob no other case links to is deleted with them."""
        shas = [
            r.sha256
            for r in conn.execute(
                select(case_blobs.c.sha256).where(case_blobs.c.case_id == case_id)
            ).all()
        ]
        conn.execute(delete(case_blobs).where(case_blobs.c.case_id == case_id))
        if not shas:
            return
        still = {
            r.sha256
            for r in conn.execute(
                select(case_blobs.c.sha256).where(case_blobs.c.sha256.in_(shas))
            ).all()
        }
        gone = [sha for sha in shas if sha not in still]
        if gone:
            conn.execute(delete(blobs).where(blobs.c.sha256.in_(gone)))

    def _link_legacy_blobs(self) -> None:
        """Stores written before blobs were linked to cases: link each case to the blobs its
        state lists (once, while no link exists yet)."""
        with self.engine.begin() as conn:
            if conn.execute(select(case_blobs.c.sha256).limit(1)).first() is not None:
                return
            if conn.execute(select(blobs.c.sha256).limit(1)).first() is None:
                return
            known = {r.sha256 for r in conn.execute(select(blobs.c.sha256)).all()}
            links = set()
            for row in conn.execute(select(cases.c.id, cases.c.state)).all():
                for att in (row.state or {}).get("attachments", []) or []:
                    sha = att.get("sha256") if isinstance(att, dict) else None
                    if sha in known:
                        links.add((row.id, sha))
            if links:
                with contextlib.suppress(IntegrityError):  # another instance linked them first
                    conn.execute(
                        insert(case_blobs),
                        [{"case_id": c, "sha256": h} for c, h in sorted(links)],
                    )

    # -- cases ---------------------------------------------------------------------------
    def load_case(self, case_id: str) -> tuple[CaseState, int] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(cases.c.state, cases.c.turns, cases.c.mode).where(cases.c.id == case_id)
            ).first()
        if row is None:
            return None
        state: CaseState = dict(row.state)  # type: ignore[assignment]
        state["mode"] = row.mode
        return state, int(row.turns)

    def ensure_case(self, case_id: str, mode: Mode) -> CaseState:
        """Load a case, creating it (empty, in ``mode``) if it does not exist."""
        loaded = self.load_case(case_id)
        if loaded is not None:
            return loaded[0]
        state = empty_case(mode)
        with self.engine.begin() as conn:
            exists = conn.execute(select(cases.c.id).where(cases.c.id == case_id)).first()
            if exists is None:
                ts = now()
                conn.execute(
                    insert(cases).values(
                        id=case_id,
                        mode=mode,
                        created_at=ts,
                        updated_at=ts,
                        turns=0,
                        state=dict(state),
                    )
                )
        loaded = self.load_case(case_id)
        assert loaded is not None
        return loaded[0]

    def exists(self, case_id: str) -> bool:
        return self.load_case(case_id) is not None

    def set_mode(self, case_id: str, mode: Mode, *, actor: str = "user") -> None:
        self.ensure_case(case_id, mode)
        with self.engine.begin() as conn:
            conn.execute(
                update(cases).where(cases.c.id == case_id).values(mode=mode, updated_at=now())
            )
            self._audit(conn, case_id, [AuditEntry(actor=actor, action="set_mode", detail=mode)])

    def reset_case(self, case_id: str, *, actor: str = "user") -> None:
        """Forget a case's turns, state and attachments (a blob another case also holds
        stays for that case); the audit log keeps that it happened."""
        with self.engine.begin() as conn:
            row = conn.execute(select(cases.c.mode).where(cases.c.id == case_id)).first()
            if row is None:
                raise CaseNotFoundError(f"No case {case_id!r}: nothing to reset.")
            conn.execute(delete(turns).where(turns.c.case_id == case_id))
            self._unlink_blobs(conn, case_id)
            conn.execute(
                update(cases)
                .where(cases.c.id == case_id)
                .values(turns=0, state=dict(empty_case(row.mode)), updated_at=now())
            )
            self._audit(conn, case_id, [AuditEntry(actor=actor, action="reset")])

    def delete_case(self, case_id: str, *, actor: str = "user") -> None:
        """Delete a case: turns, state and attachments (as :meth:`reset_case`) and the case
        itself; the audit log keeps that it happened."""
        with self.engine.begin() as conn:
            row = conn.execute(select(cases.c.id).where(cases.c.id == case_id)).first()
            if row is None:
                raise CaseNotFoundError(f"No case {case_id!r}: nothing to delete.")
            conn.execute(delete(turns).where(turns.c.case_id == case_id))
            self._unlink_blobs(conn, case_id)
            conn.execute(delete(cases).where(cases.c.id == case_id))
            self._audit(conn, case_id, [AuditEntry(actor=actor, action="delete")])

    def commit_turn(
        self,
        case_id: str,
        state: CaseState,
        turn: Turn,
        audit_entries: list[AuditEntry],
        files: list[Blob] | None = None,
    ) -> Turn:
        """Store a finished turn, the new case state, its audit entries and the attachments
        it brought (``files``) atomically."""
        ts = now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(cases.c.turns).where(cases.c.id == case_id).with_for_update()
            ).first()
            if row is None:
                conn.execute(
                    insert(cases).values(
                        id=case_id, mode=turn.mode, created_at=ts, updated_at=ts, turns=0, state={}
                    )
                )
                idx = 0
            else:
                idx = int(row.turns)
            stored = turn.model_copy(update={"index": idx, "created_at": ts.isoformat()})
            body = {k: v for k, v in state.items() if k != "mode"}
            conn.execute(
                insert(turns).values(
                    case_id=case_id,
                    idx=idx,
                    created_at=ts,
                    user_text=turn.user,
                    turn=stored.model_dump(mode="json"),
                )
            )
            conn.execute(
                update(cases)
                .where(cases.c.id == case_id)
                .values(turns=idx + 1, updated_at=ts, state=body, mode=turn.mode)
            )
            self._put_blobs(conn, case_id, list(files or []))
            self._audit(conn, case_id, audit_entries, ts=ts)
        return stored

    def _audit(
        self,
        conn: Connection,
        case_id: str,
        entries: list[AuditEntry],
        *,
        ts: datetime | None = None,
    ) -> None:
        if not entries:
            return
        ts = ts or now()
        conn.execute(
            insert(audit),
            [
                {
                    "case_id": case_id,
                    "ts": ts,
                    "actor": e.actor,
                    "action": e.action,
                    "tool": e.tool,
                    "args": e.args,
                    "ok": e.ok,
                    "ms": e.ms,
                    "detail": e.detail,
                }
                for e in entries
            ],
        )

    def record_audit(self, case_id: str, entries: list[AuditEntry]) -> None:
        with self.engine.begin() as conn:
            self._audit(conn, case_id, entries)

    # -- reading -------------------------------------------------------------------------
    def history(self, case_id: str, *, last: int | None = None) -> list[Turn]:
        query = select(turns.c.turn).where(turns.c.case_id == case_id).order_by(turns.c.idx.desc())
        if last is not None:
            query = query.limit(last)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Turn.model_validate(r.turn) for r in reversed(rows)]

    def list_cases(self) -> list[CaseSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    cases.c.id, cases.c.mode, cases.c.created_at, cases.c.updated_at, cases.c.turns
                ).order_by(cases.c.updated_at.desc())
            ).all()
        return [
            CaseSummary(
                id=r.id,
                mode=r.mode,
                created_at=_aware(r.created_at),
                updated_at=_aware(r.updated_at),
                turns=int(r.turns),
            )
            for r in rows
        ]

    def audit_log(self, case_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit).where(audit.c.case_id == case_id).order_by(audit.c.id)
            ).all()
        return [{**r._asdict(), "ts": _aware(r.ts).isoformat()} for r in rows]

    def audit_actors(self, case_id: str) -> set[str]:
        """Everyone who ever acted on a case (from its audit log, which survives resets)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit.c.actor).where(audit.c.case_id == case_id).distinct()
            ).all()
        return {str(r.actor) for r in rows}

    def count_turns(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(turns)).scalar_one())

    def integrity_ok(self) -> bool:
        """SQLite's own integrity check (True on other databases)."""
        if not self.is_sqlite:
            return True
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


# ----------------------------------------------------------------------------------------------
# Front-end event ledger: delivered events claimed once across instances, with a TTL
# (Slack retries and the app_mention/message pair; see assistant/slack/dedupe.py).
# ----------------------------------------------------------------------------------------------
front_events = Table(
    "front_events",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("thread", String(200), nullable=False, index=True),
    Column("seq", String(40), nullable=False),
    Column("status", String(10), nullable=False),  # claimed | done
    Column("owner", String(64), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

front_instances = Table(
    "front_instances",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)


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


front_settings = Table(
    "front_settings",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


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
