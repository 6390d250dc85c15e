"""Provider callbacks: stored once (unique source + event_id), then processed, retried on failure.

The receiver (`webhooks/`) calls `store` and answers at once; `process` runs right after in a
background task. An event whose processing failed stays `failed` with its error and is retried
with exponential backoff by `retry_pending` (a loop in every `indigo serve` process); an event
left `pending` by a crashed process is picked up too. Claims are conditional updates on the
attempt counter, so two processes never run one attempt twice; effects are idempotent anyway.

`processed_at` holds the time of the latest attempt until the event is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError

from core.models import (
    Applicant,
    Channel,
    InboxEvent,
    InboxStatus,
    Notification,
    NotificationStatus,
    Person,
)
from core.notifications.kinds import CodeNotDelivered
from core.notifications.outbox import notify
from core.people.otp import CLIENT_ID_PREFIX as CODE_CLIENT_ID_PREFIX
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.events import FAMILY_RESULT, EventBus
from core.platform.pii import mask_iin, mask_phone
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.index import sync_changed
from core.registry.family_requests import complete_request
from core.registry.ports import GovGateway
from core.seats.releases import release_seats

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 25  # then the event stays `failed` for an operator to look at
STALE_PENDING = timedelta(seconds=30)  # a pending event this old lost its process


@dataclass
class InboxContext:
    """What processing needs from the composition root."""

    settings: Settings
    events: EventBus | None = None
    gov: GovGateway | None = None
    redis: Redis | None = None  # for the position index, after changes committed by a callback


async def _sync_positions(ctx: InboxContext) -> None:
    """Apply the application changes this callback committed to the position index."""
    if ctx.redis is not None:
        await sync_changed(ctx.redis)


class UnknownRequest(Exception):
    """A result for a request we have not stored (yet): retried, as the request may be racing."""


Handler = Callable[[InboxEvent, InboxContext], Awaitable[None]]


async def store(source: str, payload: dict[str, Any]) -> tuple[str, InboxEvent | None]:
    """Record one callback; ("accepted", event) or ("duplicate", None) for a repeated event id."""
    try:
        event = await InboxEvent.create(
            source=source,
            event_id=str(payload["event_id"]),
            type=str(payload["type"]),
            payload=payload,
        )
    except IntegrityError:
        return "duplicate", None
    return "accepted", event


async def process(event_id: int, ctx: InboxContext) -> bool:
    """Run one attempt for the stored event `event_id`; True when it is (already) done."""
    event = await InboxEvent.get_or_none(id=event_id)
    if event is None or event.status == InboxStatus.done:
        return event is not None
    attempts = event.attempts
    claimed = await InboxEvent.filter(
        id=event.id, attempts=attempts, status__in=[InboxStatus.pending, InboxStatus.failed]
    ).update(attempts=attempts + 1, processed_at=clock.now())
    if not claimed:  # another process took this attempt
        return False
    event.attempts = attempts + 1
    handler = HANDLERS.get((event.source, event.type))
    try:
        if handler is None:
            raise LookupError(f"no handler for {event.source} {event.type}")
        await handler(event, ctx)
        await _sync_positions(ctx)
    except DomainError as exc:  # a refusal is final: retrying cannot change it
        log.info("inbox event %s refused: %s", event.id, exc.reason)
        await InboxEvent.filter(id=event.id).update(
            status=InboxStatus.done, error=f"refused: {exc.reason}"[:255], processed_at=clock.now()
        )
        return True
    except Exception as exc:
        log.warning(
            "inbox event %s (%s %s) attempt %s failed: %s",
            event.id,
            event.source,
            event.type,
            event.attempts,
            type(exc).__name__,
            exc_info=not isinstance(exc, UnknownRequest | LookupError),
        )
        await InboxEvent.filter(id=event.id).update(
            status=InboxStatus.failed, error=f"{type(exc).__name__}: {exc}"[:255]
        )
        return False
    await InboxEvent.filter(id=event.id).update(
        status=InboxStatus.done, error="", processed_at=clock.now()
    )
    return True


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after `attempts` failed ones: 2, 4, 8 ... up to 10 minutes."""
    return timedelta(seconds=min(2 ** max(attempts, 1), 600))


async def due_events(limit: int = 100) -> list[InboxEvent]:
    now = clock.now()
    failed = (
        await InboxEvent.filter(status=InboxStatus.failed, attempts__lt=MAX_ATTEMPTS)
        .order_by("processed_at")
        .limit(limit)
    )
    stale = (
        await InboxEvent.filter(status=InboxStatus.pending, received_at__lt=now - STALE_PENDING)
        .order_by("received_at")
        .limit(limit)
    )
    due = [
        e for e in failed if e.processed_at is None or e.processed_at + backoff(e.attempts) <= now
    ]
    return [*stale, *due]


async def retry_pending(ctx: InboxContext, *, limit: int = 100) -> int:
    """One pass over failed (backoff elapsed) and abandoned events; returns how many got done."""
    done = 0
    for event in await due_events(limit):
        if await process(event.id, ctx):
            done += 1
    return done


async def retry_loop(ctx: InboxContext, *, interval: float = 2.0) -> None:
    """Forever: retry due events every `interval` seconds (cancel the task to stop)."""
    while True:
        try:
            await retry_pending(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("inbox retry pass failed")
        await asyncio.sleep(interval)


# -- handlers, by (source, type) ------------------------------------------------------------


async def _family_result(event: InboxEvent, ctx: InboxContext) -> None:
    request, changed = await complete_request(event.payload, ctx.gov)
    if request is None:
        raise UnknownRequest(f"family request {event.payload.get('request_id')} unknown")
    # A retry of this same event publishes again (the first run may have died before publishing);
    # another event repeating a stored result does not.
    if (changed or event.attempts > 1) and ctx.events is not None:
        await ctx.events.publish(
            FAMILY_RESULT,
            {
                "request_id": request.request_id,
                "applicant_id": request.applicant_id,
                "consent": bool((request.result or {}).get("consent")),
            },
        )


async def _benefit_confirmed(event: InboxEvent, ctx: InboxContext) -> None:
    """The registry's word on a benefit changes no application: first-priority benefits are
    read from the registry at submission (`core.applications.benefits`), and an extraordinary
    one (the only kind ever pending) is confirmed or rejected by staff only (DOMAIN.md). The
    event is kept in the inbox, done, with the refusal as its note."""
    payload = event.payload
    iin = str(payload["iin"])
    log.info("gov benefit decision for %s: staff decide benefits", mask_iin(iin))
    raise DomainError(Reason.benefit_decided_by_staff, category=int(payload["category"]))


async def _seats_released(event: InboxEvent, ctx: InboxContext) -> None:
    """The kindergarten's system released seats: the same path as a staff release."""
    await release_seats(
        int(event.payload["group_id"]),
        int(event.payload["seats"]),
        actor="kindergarten_erp",
        settings=ctx.settings,
    )


PERSON_FIELDS = ("last_name", "first_name", "middle_name", "birth_date")


async def _person_updated(event: InboxEvent, ctx: InboxContext) -> None:
    payload = event.payload
    values: dict[str, Any] = {k: payload[k] for k in PERSON_FIELDS if payload.get(k) is not None}
    if "birth_date" in values:
        values["birth_date"] = date.fromisoformat(str(values["birth_date"]))
    if values:
        changed = await Person.filter(iin=str(payload["iin"])).update(**values)
        log.info("person %s updated (%s rows)", mask_iin(str(payload["iin"])), changed)


async def _delivery_report(event: InboxEvent, ctx: InboxContext) -> None:
    payload = event.payload
    key = str(payload.get("client_id") or "")
    query = Notification.filter(idempotency_key=key, channel=Channel.sms)
    if payload.get("status") == "delivered":
        await query.filter(
            status__in=[NotificationStatus.sending, NotificationStatus.unknown]
        ).update(status=NotificationStatus.sent, sent_at=clock.now())
    else:
        await query.filter(
            status__in=[
                NotificationStatus.sending,
                NotificationStatus.sent,
                NotificationStatus.unknown,
            ]
        ).update(status=NotificationStatus.failed, error="sms_delivery_failed")
        await _code_not_delivered(key)


async def _code_not_delivered(client_id: str) -> None:
    """A one-time code SMS failed (its client_id is `otp-<applicant>-<random>`): the parent
    waiting for it hears so in chat, once per SMS, instead of waiting out the code's life."""
    prefix, _, rest = client_id.partition(CODE_CLIENT_ID_PREFIX)
    applicant_id = rest.partition("-")[0]
    if prefix or not (applicant_id.isascii() and applicant_id.isdigit()) or len(applicant_id) > 9:
        return  # not a code of ours (an id beyond the column is not one either)
    applicant = await Applicant.get_or_none(id=int(applicant_id))
    if applicant is None:
        return
    await notify(applicant, CodeNotDelivered(), key=f"code-not-delivered:{client_id}"[:128])


async def _inbound(event: InboxEvent, ctx: InboxContext) -> None:
    log.info(
        "inbound SMS from %s (%s characters)",
        mask_phone(str(event.payload.get("from", ""))),
        len(str(event.payload.get("text", ""))),
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("gov", "family.consent_result"): _family_result,
    ("gov", "benefit.confirmed"): _benefit_confirmed,
    ("gov", "person.updated"): _person_updated,
    ("gov", "seats.released"): _seats_released,
    ("sms", "delivery_report"): _delivery_report,
    ("sms", "inbound"): _inbound,
}
