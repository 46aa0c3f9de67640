"""Opening the database (SQLite: one file, WAL, ``BEGIN IMMEDIATE``; PostgreSQL: tables created
under an advisory lock) and serializing turns on one case."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from assistant.core.errors import StoreError
from assistant.store.tables import metadata

SCHEMA_LOCK = 0x636C696E61737369  # PostgreSQL advisory lock held while creating tables


def open_engine(url: str, *, busy_timeout_s: float) -> Engine:
    """An engine on ``url`` whose tables exist."""
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine: Engine = create_engine(
            url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False}
        )
        timeout_ms = int(busy_timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={timeout_ms}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    else:
        engine = create_engine(url, pool_pre_ping=True)
    try:
        if is_sqlite:
            metadata.create_all(engine)
        else:  # instances starting together on a new database: one creates the tables
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
                metadata.create_all(conn)
    except OperationalError as exc:
        safe_url = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"cannot open the case store at {safe_url}: {exc.orig}") from exc
    return engine


class CaseLocks:
    """One lock per case: in-process, and across instances on PostgreSQL (advisory locks)."""

    def __init__(self, engine: Engine, *, is_sqlite: bool) -> None:
        self.engine = engine
        self.is_sqlite = is_sqlite
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, case_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(case_id, threading.RLock())
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
