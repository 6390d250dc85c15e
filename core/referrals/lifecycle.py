"""A referral's life after it is issued: the parent extends or declines it, the kindergarten
enrolls the child, staff revoke it, and the timer reminds, expires and lapses.

Lock order (as when taking a seat): application, then referral, then seat. What each of these
does to the application goes through `core.applications.lifecycle`: an enrolment archives it,
an expiry stop-lists it; a decline or a revoke leaves it in the queue at its place.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.applications.lifecycle import Event, allows, lock_application, stop_list, transition
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    ApplicationStatus,
    Group,
    Kindergarten,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
)
from core.notifications import outbox
from core.notifications.kinds import (
    Place,
    ReferralEnrolled,
    ReferralExpired,
    ReferralExpiring,
    ReferralRevoked,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import OfferTimeout, Settings
from core.referrals.benefits import DecisionReason, reject_benefit
from core.referrals.records import close, lock_referral, return_seat, snapshot

REMINDER_BEFORE = timedelta(hours=24)


async def extend_referral(
    referral_id: int, applicant_id: int, *, actor: str, settings: Settings
) -> Referral:
    """The parent extends a referral once by `referral_extension_days` calendar days."""
    async with in_transaction() as conn:
        _app, referral = await lock_referral(conn, referral_id, applicant_id)
        if (
            referral.status != ReferralStatus.awaiting_enrollment
            or referral.expires_at <= clock.now()
        ):
            raise DomainError(Reason.referral_not_extendable, status=str(referral.status))
        if referral.extended:
            raise DomainError(
                Reason.referral_already_extended, expires_at=referral.expires_at.isoformat()
            )
        before = snapshot(referral)
        referral.expires_at = referral.expires_at + timedelta(days=settings.referral_extension_days)
        referral.extended = True
        await referral.save(using_db=conn, update_fields=["expires_at", "extended"])
        await audit.record(
            "referral.extended",
            "referral",
            referral.id,
            actor=actor,
            before=before,
            after=snapshot(referral),
            conn=conn,
        )
        return referral


async def decline_referral(
    referral_id: int, applicant_id: int, *, actor: str, settings: Settings
) -> Referral:
    """The parent declines a live referral: the seat is released again, the application stays
    in the queue at its place (no stop-list after a decline)."""
    async with in_transaction() as conn:
        app, referral = await lock_referral(conn, referral_id, applicant_id)
        if referral.status not in LIVE_REFERRAL_STATUSES:
            raise DomainError(Reason.referral_not_live, status=str(referral.status))
        await close(conn, referral, ReferralStatus.declined, "declined by the parent", actor)
        await return_seat(conn, referral, app, actor=actor, settings=settings)
        return referral


async def enroll(referral_id: int, *, actor: str) -> Referral:
    """The kindergarten enrolled the child: the referral is used, the application archived,
    the parent told."""
    async with in_transaction() as conn:
        app, referral = await lock_referral(conn, referral_id)
        if referral.status != ReferralStatus.awaiting_enrollment:
            raise DomainError(Reason.referral_not_enrollable, status=str(referral.status))
        if referral.expires_at <= clock.now():  # expired, whether or not the timer ran yet
            raise DomainError(Reason.referral_expired, expires_at=referral.expires_at.isoformat())
        await close(conn, referral, ReferralStatus.enrolled, "enrolled", actor)
        await transition(conn, app, Event.enrolled, actor=actor)
        applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
        await outbox.notify(
            applicant,
            ReferralEnrolled(
                referral_id=referral.id,
                number=referral.number,
                application_number=app.number,
                place=await _place(conn, referral),
            ),
            key=f"referral_enrolled:{referral.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )
        return referral


async def revoke(
    referral_id: int,
    reason: str,
    *,
    actor: str,
    settings: Settings,
    reason_code: str = "",
) -> Referral:
    """Staff revoke a live referral; the seat is released again, the application stays active.
    The parent is told why: `reason_code` (a `DecisionReason` picked from the list, read in
    their language) or else the staff member's words."""
    if reason_code and reason_code not in set(DecisionReason):
        raise ValueError(f"unknown reason code {reason_code!r}")
    async with in_transaction() as conn:
        app, referral = await lock_referral(conn, referral_id)
        if referral.status not in LIVE_REFERRAL_STATUSES:
            raise DomainError(Reason.referral_not_live, status=str(referral.status))
        await close(conn, referral, ReferralStatus.revoked, reason or reason_code, actor)
        await return_seat(conn, referral, app, actor=actor, settings=settings)
        applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
        picked = reason_code and reason_code != DecisionReason.other
        await outbox.notify(
            applicant,
            ReferralRevoked(
                referral_id=referral.id,
                number=referral.number,
                application_number=app.number,
                place=await _place(conn, referral),
                reason="" if picked else reason,
                reason_code=reason_code if picked else "",
            ),
            key=f"referral_revoked:{referral.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )
        return referral


async def expire_due(settings: Settings) -> int:
    """Timer: remind 24 h before expiry, expire referrals past their deadline (stop-list and
    seat release), annul those whose benefit was not confirmed in time, lapse offers whose
    priority window ended. Returns the number of referrals closed. Safe to run concurrently."""
    now = clock.now()
    soon = await Referral.filter(
        status=ReferralStatus.awaiting_enrollment,
        expires_at__gt=now,
        expires_at__lte=now + REMINDER_BEFORE,
    ).prefetch_related("application", "kindergarten", "group")
    for referral in soon:
        applicant = await Applicant.get(id=referral.application.applicant_id)
        await outbox.notify(
            applicant,
            ReferralExpiring(
                referral_id=referral.id, number=referral.number, expires_at=referral.expires_at
            ),
            key=f"referral_expiring:{referral.id}:{int(referral.expires_at.timestamp())}",
        )

    closed = 0
    due = [
        row_id
        for (row_id,) in await Referral.filter(
            status__in=LIVE_REFERRAL_STATUSES, expires_at__lte=now
        ).values_list("id")
    ]
    for referral_id in due:
        async with in_transaction() as conn:
            app, referral = await lock_referral(conn, referral_id)
            if referral.status not in LIVE_REFERRAL_STATUSES or referral.expires_at > clock.now():
                continue  # another worker, or the parent, got there first
            if referral.status == ReferralStatus.awaiting_benefit_confirmation:
                await reject_benefit(
                    conn,
                    app,
                    referral,
                    "benefit not confirmed in time",
                    actor="system",
                    settings=settings,
                )
            else:
                await close(conn, referral, ReferralStatus.expired, "not used in time", "system")
                if allows(app.status, Event.referral_expired):  # an archived one stays so
                    await stop_list(
                        conn,
                        app,
                        Event.referral_expired,
                        days=settings.stop_list_days,
                        actor="system",
                    )
                applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
                await outbox.notify(
                    applicant,
                    ReferralExpired(
                        referral_id=referral.id,
                        number=referral.number,
                        application_number=app.number,
                        stop_listed_until=app.stop_listed_until,
                    ),
                    key=f"referral_expired:{referral.id}",
                    conn=conn,
                )
                await return_seat(conn, referral, app, actor="system", settings=settings)
            closed += 1

    await _lapse_offers(settings, now)
    return closed


# --- Helpers ---------------------------------------------------------------------------------


async def _place(conn: BaseDBAsyncClient, referral: Referral) -> Place:
    kindergarten = await Kindergarten.get(id=referral.kindergarten_id, using_db=conn)
    return Place.of(kindergarten, await Group.get(id=referral.group_id, using_db=conn))


async def _lapse_offers(settings: Settings, now: datetime) -> int:
    """Open offers whose priority window ended lapse; the addressee keeps its place unless
    `on_offer_timeout = stop_list`."""
    stale = await Offer.filter(
        status=OfferStatus.open, release__priority_end_at__lte=now
    ).values_list("id", "application_id")
    for offer_id, application_id in stale:
        async with in_transaction() as conn:
            app = await lock_application(conn, application_id)
            lapsed = (
                await Offer.filter(id=offer_id, status=OfferStatus.open)
                .using_db(conn)
                .update(status=OfferStatus.lapsed)
            )
            if not lapsed:
                continue
            await audit.record(
                "offer.lapsed",
                "offer",
                offer_id,
                actor="system",
                after={"application_id": application_id},
                conn=conn,
            )
            if (
                settings.on_offer_timeout is OfferTimeout.stop_list
                and app.status == ApplicationStatus.active
            ):
                await stop_list(
                    conn,
                    app,
                    Event.offer_timeout,
                    days=settings.stop_list_days,
                    actor="system",
                )
    return len(stale)
