"""Case storage: turns, case state, attachments by content hash, and the audit log.

One SQLAlchemy code path for SQLite (default, one file, WAL) and PostgreSQL (multi-instance).
A turn is committed in one transaction together with the case state and its audit entries,
so a crash (even ``kill -9``) leaves either the whole turn or none of it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from assistant.core.errors import CaseNotFoundError, StoreError
from assistant.core.schema import Mode, Turn
from assistant.core.state import CaseState, empty_case
from assistant.store.audit import write_audit
from assistant.store.blobs import link_legacy_blobs, put_blobs, unlink_blobs
from assistant.store.engine import CaseLocks, open_engine
from assistant.store.tables import (
    AuditEntry,
    Blob,
    CaseSummary,
    audit,
    aware,
    blobs,
    case_blobs,
    cases,
    now,
    turns,
)


class CaseStore:
    """All persistent state of cases. Thread-safe; safe across processes on SQLite and Postgres."""

    def __init__(self, url: str, *, busy_timeout_s: float = 30.0) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: Engine = open_engine(url, busy_timeout_s=busy_timeout_s)
        self._locks = CaseLocks(self.engine, is_sqlite=self.is_sqlite)
        link_legacy_blobs(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def case_lock(self, case_id: str) -> AbstractContextManager[None]:
        """Serialize turns on one case (in-process, and across instances on PostgreSQL)."""
        return self._locks.hold(case_id)

    # -- blobs ---------------------------------------------------------------------------
    def put_blob(self, data: bytes, media_type: str, *, case_id: str) -> str:
        """Store ``data`` (once per content) as an attachment of ``case_id``; its SHA-256."""
        blob = Blob(data, media_type)
        with self.engine.begin() as conn:
            put_blobs(conn, case_id, [blob])
        return blob.sha256

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
            mode = self._forget_turns_and_files(conn, case_id, "reset")
            conn.execute(
                update(cases)
                .where(cases.c.id == case_id)
                .values(turns=0, state=dict(empty_case(mode)), updated_at=now())
            )
            self._audit(conn, case_id, [AuditEntry(actor=actor, action="reset")])

    def delete_case(self, case_id: str, *, actor: str = "user") -> None:
        """Delete a case: turns, state and attachments (as :meth:`reset_case`) and the case
        itself; the audit log keeps that it happened."""
        with self.engine.begin() as conn:
            self._forget_turns_and_files(conn, case_id, "delete")
            conn.execute(delete(cases).where(cases.c.id == case_id))
            self._audit(conn, case_id, [AuditEntry(actor=actor, action="delete")])

    @staticmethod
    def _forget_turns_and_files(conn: Connection, case_id: str, verb: str) -> Mode:
        """Drop a case's turns and attachment links; its mode (CaseNotFoundError if none)."""
        row = conn.execute(select(cases.c.mode).where(cases.c.id == case_id)).first()
        if row is None:
            raise CaseNotFoundError(f"No case {case_id!r}: nothing to {verb}.")
        conn.execute(delete(turns).where(turns.c.case_id == case_id))
        unlink_blobs(conn, case_id)
        mode: Mode = row.mode
        return mode

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
            put_blobs(conn, case_id, list(files or []))
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
        write_audit(conn, case_id, entries, ts=ts)

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
                created_at=aware(r.created_at),
                updated_at=aware(r.updated_at),
                turns=int(r.turns),
            )
            for r in rows
        ]

    def audit_log(self, case_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit).where(audit.c.case_id == case_id).order_by(audit.c.id)
            ).all()
        return [{**r._asdict(), "ts": aware(r.ts).isoformat()} for r in rows]

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
