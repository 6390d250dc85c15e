"""Append-only, tamper-evident audit log.

Each entry stores the actor, time, before/after state and a SHA-256 over its content and the
previous entry's hash. Appends are serialised by a transaction-scoped advisory lock on
PostgreSQL (SQLite has a single writer anyway), so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from core import clock
from core.models import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 7_426_001  # arbitrary, constant: the audit chain's advisory lock


def _digest(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, action, entity, entity_id, before, after],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def record(
    action: str,
    entity: str,
    entity_id: object,
    *,
    actor: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> AuditEntry:
    """Append one entry; call inside the transaction that makes the change."""
    conn = conn or get_connection("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_LOCK_KEY])
    last = await AuditEntry.all().using_db(conn).order_by("-id").only("hash").first()
    prev_hash = last.hash if last else GENESIS
    at = clock.now()
    before = _jsonable(before)
    after = _jsonable(after)
    digest = _digest(prev_hash, at, actor, action, entity, str(entity_id), before, after)
    return await AuditEntry.create(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
        prev_hash=prev_hash,
        hash=digest,
        using_db=conn,
    )


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # id of the first entry whose hash does not match

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify_chain(batch: int = 5000) -> ChainReport:
    """Re-compute every hash in order; report the first entry that does not match."""
    prev_hash = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = await AuditEntry.filter(id__gt=last_id).order_by("id").limit(batch)
        if not rows:
            return ChainReport(entries=count, broken_at=None)
        for row in rows:
            expected = _digest(
                prev_hash,
                row.at,
                row.actor,
                row.action,
                row.entity,
                row.entity_id,
                row.before,
                row.after,
            )
            if row.prev_hash != prev_hash or row.hash != expected:
                return ChainReport(entries=count, broken_at=row.id)
            prev_hash = row.hash
            count += 1
            last_id = row.id


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))
