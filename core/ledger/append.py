"""Appending leaves inside the audit chain's critical section (called by core.audit._append).

`prepare` reads the applications' ordering facts before the lock (one query, only for batches
with a queue-changing entry). Under the lock, `chain_heads` reads the audit chain's last hash and
the last leaf index in one round trip, and `append` inserts the batch's leaves right after the
audit rows, so leaf indexes are continuous and in the order of the audit chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from core.ledger.leaves import AppFacts, application_id_of, canonical, is_leaf, leaf_for
from core.models import Application, AuditEntry, LedgerLeaf
from core.platform.settings import get_settings
from verifier.merkle import leaf_hash


@dataclass(frozen=True)
class Pending:
    entries: list[AuditEntry]
    facts: dict[int, AppFacts]


async def prepare(conn: BaseDBAsyncClient, entries: list[AuditEntry]) -> Pending | None:
    """None when no entry of the batch is a leaf (no query then)."""
    leaf_entries = [entry for entry in entries if is_leaf(entry.action)]
    if not leaf_entries:
        return None
    ids = {i for i in map(application_id_of, leaf_entries) if i is not None}
    facts: dict[int, AppFacts] = {}
    if ids:
        rows = (
            await Application.filter(id__in=ids)
            .using_db(conn)
            .values(
                "id",
                "stream",
                "submitted_at",
                "birth_year",
                "queue_type",
                "child_id",
                "child__person__iin",
            )
        )
        for row in rows:
            facts[row["id"]] = AppFacts(
                stream=int(row["stream"]),
                submitted_at=row["submitted_at"],
                birth_year=row["birth_year"],
                queue_type=str(row["queue_type"]),
                child=row["child__person__iin"] or f"id:{row['child_id']}",
            )
    return Pending(entries=leaf_entries, facts=facts)


async def chain_heads(conn: BaseDBAsyncClient) -> tuple[str | None, int]:
    """Under the audit lock: the audit chain's last hash and the next leaf index."""
    rows = await conn.execute_query_dict(_HEADS)
    last_seq = rows[0]["seq"] if rows else None
    return (rows[0]["hash"] if rows else None), (-1 if last_seq is None else int(last_seq)) + 1


_HEADS = (
    "SELECT (SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1) AS hash,"
    " (SELECT seq FROM ledger_leaf ORDER BY seq DESC LIMIT 1) AS seq"
)


async def append(conn: BaseDBAsyncClient, pending: Pending, seq: int) -> list[LedgerLeaf]:
    """Under the audit lock, after the audit rows are written; `seq`: the next leaf index
    (chain_heads)."""
    salt = get_settings().ledger_salt
    if any(entry.id is None for entry in pending.entries):  # bulk_create returns no ids
        hashes = [entry.hash for entry in pending.entries]
        ids = dict(
            await AuditEntry.filter(hash__in=hashes).using_db(conn).values_list("hash", "id")
        )
        for entry in pending.entries:
            entry.id = ids[entry.hash]
    leaves: list[LedgerLeaf] = []
    for entry in pending.entries:
        obj = leaf_for(entry, pending.facts, salt=salt, seq=seq)
        if obj is None:
            continue
        data = canonical(obj)
        leaves.append(
            LedgerLeaf(
                seq=seq,
                at=entry.at,
                action=entry.action,
                stream=obj["stream"],
                data=data.decode(),
                hash=leaf_hash(data).hex(),
                audit_id=entry.id,
                app_tag=obj.get("app"),
            )
        )
        seq += 1
    if len(leaves) == 1:
        await leaves[0].save(using_db=conn, force_create=True)
    elif leaves:
        await LedgerLeaf.bulk_create(leaves, using_db=conn)
    return leaves
