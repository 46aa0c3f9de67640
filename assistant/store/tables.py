"""The case store's tables (one SQLAlchemy ``metadata`` for SQLite and PostgreSQL) and the
small records read from and written to them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from assistant.core.schema import Mode

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

# Front-end event ledger (ledger.py): delivered events claimed once across instances, with a
# TTL (Slack retries and the app_mention/message pair; see assistant/slack/dedupe.py).
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


front_settings = Table(
    "front_settings",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
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


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
