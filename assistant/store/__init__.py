"""Case storage (SQLite or PostgreSQL): ``cases`` (CaseStore: turns, state, reads), ``tables``
(schema and records), ``engine`` (opening the database, per-case locks), ``blobs``
(attachments by content hash), ``audit`` (the audit log), ``ledger`` (front ends' shared
event ledger and settings)."""

from assistant.store.cases import CaseStore
from assistant.store.engine import SCHEMA_LOCK
from assistant.store.ledger import EventLedger, read_front_setting, write_front_setting
from assistant.store.tables import (
    AuditEntry,
    Blob,
    CaseSummary,
    audit,
    blobs,
    case_blobs,
    cases,
    front_events,
    front_instances,
    front_settings,
    metadata,
    now,
    turns,
)

__all__ = [
    "SCHEMA_LOCK",
    "AuditEntry",
    "Blob",
    "CaseStore",
    "CaseSummary",
    "EventLedger",
    "audit",
    "blobs",
    "case_blobs",
    "cases",
    "front_events",
    "front_instances",
    "front_settings",
    "metadata",
    "now",
    "read_front_setting",
    "turns",
    "write_front_setting",
]
