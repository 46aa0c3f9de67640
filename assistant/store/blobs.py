"""Attachments by content hash: stored once, linked to each case that holds them; a blob no
case links to any more is deleted with its last link."""

from __future__ import annotations

import contextlib

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from assistant.store.tables import Blob, blobs, case_blobs, cases, now


def put_blobs(conn: Connection, case_id: str, items: list[Blob]) -> None:
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


def unlink_blobs(conn: Connection, case_id: str) -> None:
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


def link_legacy_blobs(engine: Engine) -> None:
    """Stores written before blobs were linked to cases: link each case to the blobs its
    state lists (once, while no link exists yet)."""
    with engine.begin() as conn:
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
