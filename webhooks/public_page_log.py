"""The public page's part of the verifiable log: the latest checkpoint and the receipt check.

A receipt (docs/public-log.md) is checked the way `indigo-verify receipt` checks it, with the same
code (`verifier.merkle`, `verifier.note`): its leaf is hashed, the inclusion proof must lead from
that hash to the root of the receipt's checkpoint, the checkpoint must carry the service's
signature, and the latest checkpoint must be consistent with it (the log only grew since).
The verdict names the first check that failed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from core.ledger import log as ledger
from verifier import merkle, note
from webhooks.public_page_text import Page, h

MAX_RECEIPT_CHARS = 60_000  # under settings.max_body_bytes with room for the form's encoding


@dataclass(frozen=True)
class Verdict:
    html: str
    readable: bool  # False: the text was not a receipt at all (a 400)
    verified: bool


async def checkpoint_section(page: Page) -> str:
    """The latest signed checkpoint, as a verifier fetches it, with the key to check it."""
    _ = page.gettext
    text = await ledger.latest_checkpoint()
    key = ledger.verifier_key()
    parsed = note.parse_note(text)
    size = _("Entries in the log: {size}").format(size=page.number(parsed.size))
    explain = _(
        "Every change of the queue is written to a public append-only log. The service signs its "
        "state; anyone can check a receipt against it, here or with indigo-verify."
    )
    heading, key_label = _("Latest signed checkpoint"), _("Verifier key of the service:")
    return (
        f'<section id="checkpoint"><h2>{h(heading)}</h2>'
        f"<p>{h(explain)}</p><p>{h(size)}</p>"
        f'<pre id="checkpoint-note">{h(text)}</pre>'
        f"<p>{h(key_label)}</p>"
        f'<pre id="verifier-key">{h(key)}</pre>'
        f'<p><a href="/log/checkpoint">/log/checkpoint</a> · <a href="/log/key">/log/key</a></p>'
        "</section>"
    )


def receipt_form(page: Page, pasted: str) -> str:
    _ = page.gettext
    hint = _("Paste the receipt you got in the bot (the whole JSON text) and press “Check”.")
    action = "/public/verify?lang=" + page.language
    check = _("Check")
    return (
        f'<form id="receipt-form" method="post" action="{h(action)}">'
        f'<label for="receipt">{h(hint)}</label>'
        f'<textarea id="receipt" name="receipt" maxlength="{MAX_RECEIPT_CHARS}">'
        f"{h(pasted[:MAX_RECEIPT_CHARS])}</textarea>"
        f'<p><button type="submit">{h(check)}</button></p></form>'
    )


async def verdict(page: Page, text: str) -> Verdict:
    """Every check in order; the first failure is the verdict (later checks are not run)."""
    _ = page.gettext
    try:
        receipt = _receipt(text)
    except ValueError:
        message = _("This is not a receipt: paste the whole JSON text of the receipt.")
        return Verdict(_failed_html(page, message, []), readable=False, verified=False)
    passed: list[str] = []
    leaf_hash = merkle.leaf_hash(receipt.leaf.encode())
    try:
        leaf = json.loads(receipt.leaf)
    except ValueError:
        leaf = None
    if (
        not isinstance(leaf, dict)
        or leaf.get("seq") != receipt.seq
        or (receipt.app and leaf.get("app") != receipt.app)
    ):
        return _fail(page, passed, _("The entry does not match the receipt's number and tag."))
    passed.append(_("The entry belongs to this receipt (position {seq}).").format(seq=receipt.seq))
    key = ledger.verifier_key()
    try:
        checkpoint = note.verify_checkpoint(receipt.checkpoint, key)
    except note.NoteError:
        return _fail(
            page, passed, _("The checkpoint is not signed by the service's key: it is forged.")
        )
    passed.append(_("The checkpoint carries the service's signature."))
    try:
        merkle.verify_inclusion(
            leaf_hash, receipt.seq, checkpoint.size, receipt.proof, checkpoint.root
        )
    except merkle.ProofError:
        return _fail(
            page,
            passed,
            _(
                "The inclusion proof fails: this entry, as written in the receipt, is not in the "
                "signed log. The receipt was altered."
            ),
        )
    passed.append(_("The entry is in the signed log (the inclusion proof holds)."))
    latest = note.verify_checkpoint(await ledger.latest_checkpoint(), key)
    try:
        await _consistent(checkpoint.size, checkpoint.root, latest.size, latest.root)
    except (merkle.ProofError, ledger.LedgerError):
        return _fail(
            page,
            passed,
            _(
                "The latest checkpoint is not consistent with the receipt's: the log was "
                "rewritten after the receipt was issued."
            ),
        )
    passed.append(
        _("The log only grew since: the latest checkpoint ({size} entries) is consistent.").format(
            size=page.number(latest.size)
        )
    )
    ok = _("The receipt is verified: application {number}, entry {seq} of the public log.").format(
        number=receipt.number, seq=receipt.seq
    )
    items = "".join(f"<li>✓ {h(line)}</li>" for line in passed)
    body = (
        f'<div id="verdict" class="ok" role="status"><p><strong>{h(ok)}</strong></p>'
        f"<ul>{items}</ul></div>"
    )
    return Verdict(body, readable=True, verified=True)


# --- helpers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Receipt:
    seq: int
    leaf: str
    checkpoint: str
    proof: list[bytes]
    number: str
    app: str


def _receipt(text: str) -> _Receipt:
    """The receipt's fields, or ValueError for anything that is not one."""
    if not text.strip() or len(text) > MAX_RECEIPT_CHARS:
        raise ValueError("empty or too long")
    data: Any = json.loads(text)
    if not isinstance(data, dict) or data.get("v") != 1:
        raise ValueError("not a receipt")
    seq, leaf, checkpoint, proof = (data.get(k) for k in ("seq", "leaf", "checkpoint", "proof"))
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError("seq")
    if not isinstance(leaf, str) or not isinstance(checkpoint, str):
        raise ValueError("leaf or checkpoint")
    if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
        raise ValueError("proof")
    try:
        hashes = [base64.b64decode(p, validate=True) for p in proof]
    except binascii.Error:
        raise ValueError("proof") from None
    return _Receipt(
        seq=seq,
        leaf=leaf,
        checkpoint=checkpoint,
        proof=hashes,
        number=str(data.get("number", "")),
        app=str(data.get("app", "")),
    )


async def _consistent(size: int, root: bytes, latest_size: int, latest_root: bytes) -> None:
    if size > latest_size:
        raise merkle.ProofError("the receipt's checkpoint is newer than the latest")
    if size == latest_size:
        if root != latest_root:
            raise merkle.ProofError("two roots for one size")
        return
    proof = await ledger.consistency(size, latest_size)
    merkle.verify_consistency(size, latest_size, proof, root, latest_root)


def _fail(page: Page, passed: list[str], message: str) -> Verdict:
    return Verdict(_failed_html(page, message, passed), readable=True, verified=False)


def _failed_html(page: Page, message: str, passed: list[str]) -> str:
    title = page.gettext("The receipt does not verify.")
    items = "".join(f"<li>✓ {h(line)}</li>" for line in passed)
    return (
        f'<div id="verdict" class="error" role="alert"><p><strong>{h(title)}</strong></p>'
        f'<p id="failed-check">✗ {h(message)}</p><ul>{items}</ul></div>'
    )
