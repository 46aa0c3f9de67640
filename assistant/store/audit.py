"""The audit log: who did what to a case, written in the transaction of the change it records;
it survives resets and deletions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from assistant.store.tables import AuditEntry, audit, now


def write_audit(
    conn: Connection, case_id: str, entries: list[AuditEntry], *, ts: datetime | None = None
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
