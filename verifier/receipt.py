"""A parent's receipt (docs/public-log.md): one leaf of the log about their application, the
signed checkpoint it was included in and the inclusion proof. Checked in order: the leaf's
hash and facts, the checkpoint's signature, the inclusion, and (online) that the checkpoint
is consistent with the log's latest one."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from verifier import merkle
from verifier.client import CheckFailed, LogClient, SignedCheckpoint, check_consistent, signed


@dataclass(frozen=True)
class ReceiptResult:
    seq: int
    number: str
    action: str
    at: str
    checkpoint_size: int
    latest_size: int | None  # None: not checked against the live log


def parse(text: str) -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(text)
        for name in ("seq", "leaf", "checkpoint", "proof", "app"):
            if name not in body:
                raise ValueError(f"no {name!r}")
    except ValueError as error:
        raise CheckFailed("format", f"not a receipt ({error})") from error
    return body


def check_receipt(text: str, key: str, client: LogClient | None = None) -> ReceiptResult:
    """Every check of a receipt; raises CheckFailed naming the first that fails."""
    body = parse(text)
    seq = int(body["seq"])
    leaf_text = str(body["leaf"])
    digest = merkle.leaf_hash(leaf_text.encode())
    try:
        leaf = json.loads(leaf_text)
    except ValueError as error:
        raise CheckFailed("leaf_hash", "the leaf is not JSON") from error
    if leaf.get("seq") != seq:
        raise CheckFailed("leaf_hash", f"the leaf is leaf {leaf.get('seq')}, receipt says {seq}")
    if leaf.get("app") != body["app"]:
        raise CheckFailed("leaf_hash", "the leaf is not about the receipt's application tag")
    if "leaf_hash" in body and _b64(body["leaf_hash"]) != digest:
        raise CheckFailed("leaf_hash", "the leaf does not hash to the receipt's leaf hash")
    checkpoint = signed(str(body["checkpoint"]), key)
    if body.get("origin") not in (None, checkpoint.origin):
        raise CheckFailed(
            "origin", f"receipt of {body['origin']!r}, checkpoint of {checkpoint.origin!r}"
        )
    proof = [_b64(p) for p in body["proof"]]
    try:
        merkle.verify_inclusion(digest, seq, checkpoint.size, proof, checkpoint.root)
    except merkle.ProofError as error:
        raise CheckFailed(
            "inclusion", f"leaf {seq} is not in the checkpoint of size {checkpoint.size} ({error})"
        ) from error
    latest: SignedCheckpoint | None = None
    if client is not None:
        latest = signed(client.checkpoint(), key)
        check_consistent(client, checkpoint, latest)
    return ReceiptResult(
        seq=seq,
        number=str(body.get("number", "")),
        action=str(leaf.get("action", "")),
        at=str(leaf.get("at", "")),
        checkpoint_size=checkpoint.size,
        latest_size=latest.size if latest is not None else None,
    )


def _b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError as error:
        raise CheckFailed("format", f"bad base64 {str(value)[:20]!r}") from error
