"""Append-only, tamper-evident audit log.

Each entry stores the actor, time, before/after state and a SHA-256 over its content and the
previous entry's hash. Appends are serialised by a transaction-scoped advisory lock on
PostgreSQL (SQLite has a single writer anyway), so the chain never forks. Queue-changing
entries also become leaves of the public Merkle log (core.ledger) in the same critical section.

The lock is held until the transaction commits, so it is taken as late as possible: inside
`audit.transaction()` (an `in_transaction()` for hot paths) `record` only queues the entry, and
the queued entries are chained and written in one INSERT right before the commit (lock, read
the last hash, insert, commit: the critical section is three short statements, not the whole
transaction). Outside it `record` writes at once, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.ledger import append as ledger
from core.models import AuditEntry
from core.platform import clock

GENESIS = "0" * 64
_LOCK_KEY = 7_426_001  # arbitrary, constant: the audit chain's advisory lock
# (transaction connection, entries queued in it) of the innermost `transaction()`.
_deferred: ContextVar[tuple[BaseDBAsyncClient, list[AuditEntry]] | None] = ContextVar(
    "audit_deferred", default=None
)


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
    """Append one entry; call inside the transaction that makes the change.

    Inside `transaction()` (with its connection) the entry is queued and written just before
    the commit; the returned entry then has no id or hash yet."""
    entry = AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
    )
    deferred = _deferred.get()
    if deferred is not None and conn is deferred[0]:
        deferred[1].append(entry)
        return entry
    if conn is None:
        # Its own transaction: the advisory lock lives until the commit (in autocommit it would
        # be released at once and two appends could read the same last hash and leaf index).
        async with in_transaction() as own:
            await _append(own, [entry])
        return entry
    await _append(conn, [entry])
    return entry


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """`in_transaction()` whose audit entries (recorded with its connection) are chained and
    written at the end, so the chain's lock is held only from then to the commit."""
    async with in_transaction() as conn:
        queued: list[AuditEntry] = []
        token = _deferred.set((conn, queued))
        try:
            yield conn
        finally:
            _deferred.reset(token)
        if queued:
            await _append(conn, queued)


async def _append(conn: BaseDBAsyncClient, entries: list[AuditEntry]) -> None:
    # Queue-changing entries are also leaves of the public log (core.ledger), appended under
    # the same lock so that leaf indexes follow the chain; their facts are read before it.
    pending = await ledger.prepare(conn, entries)
    if conn.capabilities.dialect == "postgres":
        # Two statements on purpose: in READ COMMITTED the read must start after the lock is
        # granted to see the entry the previous holder has just committed.
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_LOCK_KEY])
    if pending is None:
        last = await AuditEntry.all().using_db(conn).order_by("-id").only("hash").first()
        prev_hash = last.hash if last else GENESIS
    else:  # one round trip for the chain's last hash and the log's next leaf index
        last_hash, next_seq = await ledger.chain_heads(conn)
        prev_hash = last_hash or GENESIS
    for entry in entries:
        entry.prev_hash = prev_hash
        entry.hash = prev_hash = _digest(
            prev_hash,
            entry.at,
            entry.actor,
            entry.action,
            entry.entity,
            entry.entity_id,
            entry.before,
            entry.after,
        )
    if len(entries) == 1:
        await entries[0].save(using_db=conn)
    else:
        await AuditEntry.bulk_create(entries, using_db=conn)
    if pending is not None:
        await ledger.append(conn, pending, next_seq)


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
    result: dict[str, Any] = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return result
