"""Button payloads shared between modules: typed CallbackData factories and the seat-offer string.

One definition per payload, so a button and the handler that answers it cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Callback data is user input: an id or page outside these bounds does not match the filter
# (pydantic refuses it), so `kgc:99999999999999999999:0` is answered as an outdated button
# instead of overflowing a database integer.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
PageNo = Annotated[int, Field(ge=-1, le=100_000)]
# Application numbers are BIGINT; bounded all the same.
NumberNo = Annotated[int, Field(ge=1, le=2**62)]


class LanguageChoice(CallbackData, prefix="lang"):
    """The language picker's buttons (kk or ru)."""

    code: str  # the handler's filter accepts only kk and ru


class ProofOf(CallbackData, prefix="proof"):
    """The "Proof in the public log" button under a notification: the receipts of application
    `number` (the parent's own only: the handler asks the core)."""

    number: NumberNo


class WhyMoved(CallbackData, prefix="why"):
    """The "Why did it move?" button under a position_changed notification (issue 17): the
    explanation of application `number`'s move (the parent's own only)."""

    number: NumberNo


# The seat_offered button and the /start deep link carry the same string (a deep-link payload
# allows only [A-Za-z0-9_-], so it is not a CallbackData, whose parts are joined by ":").
SEAT_OFFER = re.compile(r"^ref_(\d+)_(\d+)$")


def seat_offer_payload(application_id: int, release_id: int) -> str:
    """The payload of a seat offer: `ref_<application_id>_<release_id>`."""
    return f"ref_{application_id}_{release_id}"


def parse_seat_offer(payload: str) -> tuple[int, int] | None:
    """(application_id, release_id) of a seat-offer payload, or None for any other string."""
    match = SEAT_OFFER.match(payload)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


Undoable = Literal["enrol", "revoke", "benefit", "release", "dismiss"]


class UndoCb(CallbackData, prefix="sundo"):
    """A staff member's "Undo" under the result of their decision (bot.staff.undo): `what`
    was decided ("enrol", "revoke", "dismiss", "benefit", "release") on referral, application
    or seat release `row`; `step`: "ask"
    (show the confirmation), "do" (undo it), "keep" (leave it)."""

    what: Undoable
    step: Literal["ask", "do", "keep"]
    row: RowId
