"""A parent's receipts: the public-log entries of their own application, with the proof that the
log holds them (issue 19). The bot reads receipts only through here, so every receipt is checked
against the caller first: another family's application is refused like an unknown one, and a
forged id learns nothing (not even whether the application has entries in the log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.ledger import log
from core.models import Application
from core.platform.errors import DomainError
from core.platform.reasons import Reason


@dataclass(frozen=True)
class ReceiptEntry:
    """One entry of the application in the public log, as the list of receipts shows it."""

    seq: int
    action: str
    at: datetime


@dataclass(frozen=True)
class ReceiptView:
    """One receipt opened: the public entry in readable parts, the checkpoint that covers it and
    the JSON file the parent checks on the public page or with `indigo-verify receipt`."""

    seq: int
    action: str
    at: datetime
    number: int  # the application's number (in the receipt only: the log has just the tag)
    app_tag: str
    leaf: dict[str, Any]  # the entry's public facts, as published
    origin: str
    size: int  # the checkpoint's tree size
    root: str  # the checkpoint's root hash, base64 as in the signed note
    text: str  # the receipt JSON
    kindergarten_ids: list[int] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"receipt-{self.number}-{self.seq}.json"


async def owned_application_id(applicant_id: int, number: int) -> int:
    """The id of the parent's application with this number (refused for anyone else's)."""
    found = await Application.filter(number=number, applicant_id=applicant_id).first()
    if found is None:
        raise DomainError(Reason.application_not_found)
    return int(found.id)


async def receipts_for_applicant(applicant_id: int, application_id: int) -> list[ReceiptEntry]:
    """The application's entries in the public log, newest first; only the owner gets them."""
    return [
        ReceiptEntry(seq=r.seq, action=r.action, at=_moment(r.at))
        for r in await _owned_receipts(applicant_id, application_id)
    ]


async def receipt_for_applicant(applicant_id: int, application_id: int, seq: int) -> ReceiptView:
    """One receipt of the parent's application, proven against the latest signed checkpoint."""
    for receipt in await _owned_receipts(applicant_id, application_id):
        if receipt.seq == seq:
            break
    else:  # an entry of the log that is not this application's
        raise DomainError(Reason.application_not_found)
    note = await log.latest_checkpoint()
    origin, size, root = _checkpoint_body(note)
    leaf = json.loads(receipt.data)
    return ReceiptView(
        seq=receipt.seq,
        action=receipt.action,
        at=_moment(receipt.at),
        number=int(receipt.number),
        app_tag=receipt.app_tag,
        leaf=leaf,
        origin=origin,
        size=size,
        root=root,
        text=await log.receipt_text(receipt, note),
        kindergarten_ids=_kindergartens(leaf),
    )


async def _owned_receipts(applicant_id: int, application_id: int) -> list[log.Receipt]:
    if not await Application.filter(id=application_id, applicant_id=applicant_id).exists():
        raise DomainError(Reason.application_not_found)
    receipts = await log.receipts_for(application_id)
    return sorted(receipts, key=lambda r: r.seq, reverse=True)


def _checkpoint_body(note: str) -> tuple[str, int, str]:
    """(origin, size, base64 root) of a signed note (C2SP tlog-checkpoint: three body lines)."""
    origin, size, root = note.split("\n", 3)[:3]
    return origin, int(size), root


def _moment(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _kindergartens(leaf: dict[str, Any]) -> list[int]:
    """The kindergartens an entry names: its own (`kg`) or the application's choices."""
    ids: list[int] = []
    if isinstance(leaf.get("kg"), int):
        ids.append(leaf["kg"])
    choices = leaf.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        kg = choice[0] if isinstance(choice, list) and choice else choice  # [kg id, language]
        if isinstance(kg, int) and kg not in ids:
            ids.append(kg)
    return ids
