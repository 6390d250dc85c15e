"""The public log's API: checkpoints, proofs, leaves and receipts (no personal data anywhere).

Checkpoints are C2SP signed notes over the tree of all leaves (verifier.note). A new checkpoint
is signed only if the tree it covers is consistent with the last signed one (the signed prefix
still has the signed root): a rewritten leaf is refused with an error log and a metric, never
signed over, so two inconsistent checkpoints never exist.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import Counter
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import audit
from core.ledger import tree
from core.ledger.leaves import iso_seconds, tag
from core.models import Application, AuditEntry, LedgerCheckpoint, LedgerLeaf
from core.platform import clock
from core.platform.settings import Settings, get_settings
from verifier import merkle, note

log = logging.getLogger(__name__)

MAX_LEAVES_PAGE = 1000
_SIGN_LOCK_KEY = 7_426_002  # the checkpoint signer's advisory lock (the audit chain's is ..001)

CHECKPOINTS_SIGNED = Counter("indigo_ledger_checkpoints_total", "Checkpoints of the public log")
CHECKPOINTS_REFUSED = Counter(
    "indigo_ledger_checkpoint_refused_total",
    "Checkpoints refused because the log is not consistent with the last signed one",
)


_on_demand = asyncio.Lock()


class LedgerError(Exception):
    """A request the log cannot answer or a log it refuses to sign; `reason` is a code."""

    def __init__(self, reason: str, parameter: str | None = None) -> None:
        super().__init__(reason if parameter is None else f"{reason}: {parameter}")
        self.reason = reason
        self.parameter = parameter


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> str:
        return note.verifier_key_string(self.name, note.public_key_of(self.private))


@dataclass(frozen=True)
class Receipt:
    seq: int
    action: str
    at: str
    data: str  # the leaf's JSON text
    leaf_hash: str  # hex
    app_tag: str
    number: int  # the application number (the parent's side only)


@dataclass(frozen=True)
class LogReport:
    """audit_against_log(): where the database no longer matches what was signed."""

    leaves: int
    bad_leaf: int | None  # first seq whose hash, index or audit row does not match
    bad_checkpoint: int | None  # first signed size whose root the leaves no longer give

    @property
    def ok(self) -> bool:
        return self.bad_leaf is None and self.bad_checkpoint is None


# --- Keys --------------------------------------------------------------------------------------


def signing_keys(settings: Settings | None = None) -> list[SigningKey]:
    """`ledger_signing_key`: "seed" (named by the origin) or "name=seed,name2=seed2"."""
    settings = settings or get_settings()
    keys: list[SigningKey] = []
    for part in settings.ledger_signing_key.split(","):
        part = part.strip()
        raw = _seed(part)
        name = settings.ledger_origin
        if raw is None:  # "name=seed" (a bare seed is 44 base64 characters)
            name, _, seed = part.partition("=")
            raw = _seed(seed)
            if raw is None or not name or "+" in name or " " in name:
                raise LedgerError("bad_signing_key")
        keys.append(SigningKey(name=name, private=Ed25519PrivateKey.from_private_bytes(raw)))
    return keys


def _seed(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return raw if len(raw) == 32 else None


def verifier_key(settings: Settings | None = None) -> str:
    """The current key's verifier string ("<name>+<key id>+<base64 key>")."""
    return signing_keys(settings)[0].verifier


# --- Checkpoints -------------------------------------------------------------------------------


async def tree_size() -> int:
    last: list[Any] = await LedgerLeaf.all().order_by("-seq").limit(1).values_list("seq", flat=True)
    return int(last[0]) + 1 if last else 0


async def last_signed() -> LedgerCheckpoint | None:
    return await LedgerCheckpoint.all().order_by("-size").first()


async def latest_checkpoint(settings: Settings | None = None) -> str:
    """The signed note of the whole tree; signs a new one when the tree grew."""
    last = await last_signed()
    if last is not None and last.size >= await tree_size():
        return last.note
    # A burst of readers after new leaves: one signs, the others then find its checkpoint.
    async with _on_demand:
        last = await last_signed()
        if last is not None and last.size >= await tree_size():
            return last.note
        return await sign_checkpoint(settings)


async def sign_checkpoint(settings: Settings | None = None) -> str:
    """Sign the current tree (the job runs it every minute). Refuses (LedgerError
    "inconsistent", error log, metric) when the leaves no longer give the last signed root."""
    settings = settings or get_settings()
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "postgres":
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_SIGN_LOCK_KEY])
        last = await LedgerCheckpoint.all().using_db(conn).order_by("-size").first()
        rows = await LedgerLeaf.all().using_db(conn).order_by("seq").values_list("seq", "hash")
        hashes = _continuous(rows)
        size = len(hashes)
        root = tree.root(hashes)
        if last is not None:
            if size < last.size:
                _refuse(f"the log has {size} leaves, {last.size} were signed")
            proof = tree.consistency_proof(hashes, last.size, size)
            try:
                if last.size == 0:
                    if last.root != merkle.EMPTY_ROOT.hex():
                        raise merkle.ProofError("root1_mismatch")
                else:
                    signed_root = bytes.fromhex(last.root)
                    merkle.verify_consistency(last.size, size, proof, signed_root, root)
            except merkle.ProofError as exc:
                _refuse(f"size {size} is not consistent with signed size {last.size}: {exc}")
            if size == last.size:
                return last.note
        text = note.checkpoint_text(settings.ledger_origin, size, root)
        signed = text + "\n"
        for key in signing_keys(settings):
            signed += note.sign_note(text, key.name, key.private).split("\n\n", 1)[1]
        try:
            await LedgerCheckpoint.create(
                size=size, root=root.hex(), note=signed, at=clock.now(), using_db=conn
            )
        except IntegrityError:  # SQLite without the lock: another signer won this size
            existing = await LedgerCheckpoint.get(size=size)
            return existing.note
    CHECKPOINTS_SIGNED.inc()
    return signed


async def sign_job(settings: Settings) -> int:
    """The every-minute job: the signed size."""
    return note.parse_note(await sign_checkpoint(settings)).size


def _refuse(message: str) -> None:
    CHECKPOINTS_REFUSED.inc()
    log.error("public log: refusing to sign a checkpoint: %s", message)
    raise LedgerError("inconsistent")


def _continuous(rows: list[tuple[Any, ...]]) -> list[bytes]:
    for index, row in enumerate(rows):
        if int(row[0]) != index:
            _refuse(f"leaf indexes are not continuous at {index}")
    return [bytes.fromhex(row[1]) for row in rows]


# --- Proofs and leaves -------------------------------------------------------------------------


# Leaf hashes are append-only: each process keeps them (32 bytes a leaf) with memoised subtree
# roots and reads only the new ones, so a proof does not rehash the log. Signing never uses this
# cache: it recomputes from the database to catch a rewrite.
_cache = tree.CachedTree()
_cache_lock = asyncio.Lock()


def forget_cached_leaves() -> None:
    """Drop this process's cached leaf hashes (a test empties the database under it: two logs
    of generic leaves written in the same second can agree on their first and last leaf)."""
    _cache.reset()


async def _tree(size: int) -> tree.CachedTree:
    async with _cache_lock:
        have = len(_cache)
        if have:  # still this database's log (a restore replaces it): its first and last leaf
            ends = dict(
                await LedgerLeaf.filter(seq__in=sorted({0, have - 1})).values_list("seq", "hash")
            )
            if any(str(ends.get(seq)) != _cache.leaf(seq).hex() for seq in {0, have - 1}):
                _cache.reset()
                have = 0
        if size > have:
            rows = (
                await LedgerLeaf.filter(seq__gte=have, seq__lt=size)
                .order_by("seq")
                .values_list("seq", "hash")
            )
            if [int(row[0]) for row in rows] != list(range(have, size)):
                raise LedgerError("unknown_size")
            _cache.extend([bytes.fromhex(str(row[1])) for row in rows])
        return _cache


async def inclusion(index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves."""
    if size < 1:
        raise LedgerError("bad_parameter", "size")
    if index < 0:
        raise LedgerError("bad_parameter", "index")
    if size > await tree_size():
        raise LedgerError("unknown_size")
    if index >= size:
        raise LedgerError("unknown_index")
    return (await _tree(size)).inclusion_proof(index, size)


async def leaf_hash_at(index: int) -> bytes:
    row = await LedgerLeaf.filter(seq=index).values_list("hash", flat=True)
    if not row:
        raise LedgerError("unknown_index")
    return bytes.fromhex(str(row[0]))


async def consistency(first: int, second: int) -> list[bytes]:
    """The proof that the tree of `first` leaves is a prefix of the tree of `second`."""
    if first < 0:
        raise LedgerError("bad_parameter", "first")
    if second < first:
        raise LedgerError("bad_parameter", "second")
    if second > await tree_size():
        raise LedgerError("unknown_size")
    return (await _tree(second)).consistency_proof(first, second)


async def leaves(start: int, end: int) -> list[dict[str, Any]]:
    """Leaves start..end-1 (at most MAX_LEAVES_PAGE; cut at the tree's end)."""
    if start < 0:
        raise LedgerError("bad_parameter", "start")
    if end <= start or end - start > MAX_LEAVES_PAGE:
        raise LedgerError("bad_parameter", "end")
    rows = (
        await LedgerLeaf.filter(seq__gte=start, seq__lt=end)
        .order_by("seq")
        .values_list("seq", "data", "hash")
    )
    if not rows:
        raise LedgerError("unknown_index")
    return [{"seq": int(seq), "data": data, "hash": h} for seq, data, h in rows]


# --- Receipts ----------------------------------------------------------------------------------


async def receipts_for(application_id: int, settings: Settings | None = None) -> list[Receipt]:
    """The leaves about one application, for its parent (who knows the number)."""
    settings = settings or get_settings()
    app = await Application.get_or_none(id=application_id).only("id", "number")
    if app is None:
        return []
    app_tag = tag(settings.ledger_salt, "app", application_id)
    rows = await LedgerLeaf.filter(app_tag=app_tag).order_by("seq")
    return [
        Receipt(
            seq=row.seq,
            action=row.action,
            at=json.loads(row.data)["at"],
            data=row.data,
            leaf_hash=row.hash,
            app_tag=app_tag,
            number=app.number,
        )
        for row in rows
    ]


async def receipt_text(
    receipt: Receipt, checkpoint_note: str, settings: Settings | None = None
) -> str:
    """The JSON a parent pastes into the verifier: the leaf, a checkpoint that covers it and the
    inclusion proof between them (LedgerError "unknown_index" if the checkpoint is older)."""
    settings = settings or get_settings()
    checkpoint = note.parse_note(checkpoint_note)
    proof = await inclusion(receipt.seq, checkpoint.size)
    return json.dumps(
        {
            "v": 1,
            "origin": checkpoint.origin,
            "seq": receipt.seq,
            "leaf": receipt.data,
            "checkpoint": checkpoint_note,
            "proof": [base64.b64encode(p).decode() for p in proof],
            "number": str(receipt.number),
            "app": receipt.app_tag,
        },
        ensure_ascii=False,
    )


# --- Tamper check ------------------------------------------------------------------------------


async def audit_against_log(batch: int = 5000) -> LogReport:
    """Recompute every leaf hash from its data, check indexes are continuous and each leaf's
    audit row still says the same action at the same second, and every signed root against the
    leaves. A rewrite of a leaf or of its audit row in the database shows here."""
    hashes: list[bytes] = []
    bad_leaf: int | None = None
    last = -1
    while True:
        rows = await LedgerLeaf.filter(seq__gt=last).order_by("seq").limit(batch)
        if not rows:
            break
        audit_rows = {
            entry.id: entry
            for entry in await AuditEntry.filter(
                id__in=[r.audit_id for r in rows if r.audit_id is not None]
            )
        }
        for row in rows:
            if bad_leaf is None and not _leaf_matches(row, len(hashes), audit_rows):
                bad_leaf = row.seq
            hashes.append(bytes.fromhex(row.hash))
            last = row.seq
    chain = await audit.verify_chain()
    if bad_leaf is None and not chain.ok:
        broken = await LedgerLeaf.filter(audit_id__gte=chain.broken_at).order_by("seq").first()
        bad_leaf = broken.seq if broken is not None else len(hashes)
    bad_checkpoint: int | None = None
    for checkpoint in await LedgerCheckpoint.all().order_by("size"):
        if checkpoint.size > len(hashes) or tree.root(hashes[: checkpoint.size]).hex() != (
            checkpoint.root
        ):
            bad_checkpoint = checkpoint.size
            break
    return LogReport(leaves=len(hashes), bad_leaf=bad_leaf, bad_checkpoint=bad_checkpoint)


def _leaf_matches(row: LedgerLeaf, index: int, audit_rows: dict[int, AuditEntry]) -> bool:
    if row.seq != index or merkle.leaf_hash(row.data.encode()).hex() != row.hash:
        return False
    try:
        obj = json.loads(row.data)
    except ValueError:
        return False
    if obj.get("seq") != row.seq or obj.get("action") != row.action:
        return False
    if row.audit_id is None:
        return True
    entry = audit_rows.get(row.audit_id)
    return (
        entry is not None
        and entry.action == row.action
        and obj.get("at") == iso_seconds(entry.at)
        and obj.get("stream") == row.stream
    )
