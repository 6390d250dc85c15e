"""An unfinished application kept as a draft, and the family consent that need not be asked twice.

A parent who leaves the wizard (a menu tap, `/start`, `/cancel`) finds the answers again: the
wizard's data is kept in Redis under the applicant's id for `draft_ttl_days`, then forgotten by
Redis itself. The draft holds what the dialog stack held (already in Redis): nothing of it is
logged. A family request the parent consented to (the SMS from 1414) is reused for the same
parent IIN for `family_consent_valid_hours`, so starting again does not send a new SMS.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from core.models import GovRequest, GovRequestStatus
from core.platform import clock
from core.platform.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """Where the parent stopped (a wizard state name) and the answers given so far."""

    state: str
    data: dict[str, Any]
    widgets: dict[str, Any]
    saved_at: datetime


async def keep(
    redis: Redis,
    applicant_id: int,
    *,
    state: str,
    data: dict[str, Any],
    widgets: dict[str, Any],
    settings: Settings,
) -> None:
    """Keep (or replace) the applicant's draft for `draft_ttl_days`."""
    payload = {
        "state": state,
        "data": data,
        "widgets": widgets,
        "saved_at": clock.now().isoformat(),
    }
    ttl = timedelta(days=settings.draft_ttl_days)
    await redis.set(draft_key(applicant_id), json.dumps(payload), ex=int(ttl.total_seconds()))
    log.info("draft kept for applicant %s at %s", applicant_id, state)


async def load(redis: Redis, applicant_id: int) -> Draft | None:
    """The applicant's draft, or None (never kept, expired, dropped or unreadable)."""
    raw = await redis.get(draft_key(applicant_id))
    if raw is None:
        return None
    try:
        payload = json.loads(raw)
        return Draft(
            state=str(payload["state"]),
            data=dict(payload["data"]),
            widgets=dict(payload.get("widgets") or {}),
            saved_at=datetime.fromisoformat(payload["saved_at"]),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("an unreadable draft of applicant %s was dropped", applicant_id)
        await drop(redis, applicant_id)
        return None


async def drop(redis: Redis, applicant_id: int) -> None:
    """Forget the draft (submitted, cancelled by the parent, or started again)."""
    await redis.delete(draft_key(applicant_id))


def draft_key(applicant_id: int) -> str:
    return f"indigo:draft:submission:{applicant_id}"


# --- the family consent, once given ---------------------------------------------------------


async def consented_request(
    applicant_id: int, parent_iin: str, settings: Settings
) -> GovRequest | None:
    """This applicant's family request for `parent_iin` consented to within the validity, newest
    first: the wizard shows its children without asking the parent to consent again."""
    if settings.family_consent_valid_hours <= 0:
        return None
    since = clock.now() - timedelta(hours=settings.family_consent_valid_hours)
    return (
        await GovRequest.filter(
            applicant_id=applicant_id,
            parent_iin=parent_iin,
            status=GovRequestStatus.consented,
            answered_at__gte=since,
        )
        .order_by("-answered_at", "-id")
        .first()
    )


async def family_request(applicant_id: int, request_id: str) -> GovRequest | None:
    """One of the applicant's family requests by its id (another applicant's is None)."""
    return await GovRequest.get_or_none(request_id=request_id, applicant_id=applicant_id)
