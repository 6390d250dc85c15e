"""A referral row: its audited snapshot, its lock, closing it and giving its seat back.

Shared by the referral's life after issue (`core.referrals.lifecycle`) and the benefit
decision (`core.referrals.benefits`). Lock order: application, then referral, then seat.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from core import audit
from core.applications.lifecycle import lock_application
from core.models import Application, Group, Referral, ReferralStatus, Seat, SeatStatus
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.seats.releases import release_in


async def lock_referral(
    conn: BaseDBAsyncClient, referral_id: int, applicant_id: int | None = None
) -> tuple[Application, Referral]:
    """Lock the referral's application, then the referral (the module's lock order)."""
    found = await Referral.get_or_none(id=referral_id, using_db=conn)
    if found is None:
        raise DomainError(Reason.referral_not_found)
    app = await lock_application(conn, found.application_id)
    if applicant_id is not None and app.applicant_id != applicant_id:
        raise DomainError(Reason.referral_not_found)
    referral = await Referral.filter(id=referral_id).select_for_update().using_db(conn).get()
    return app, referral


async def close(
    conn: BaseDBAsyncClient, referral: Referral, status: ReferralStatus, reason: str, actor: str
) -> None:
    before = snapshot(referral)
    referral.status = status
    referral.closed_at = clock.now()
    referral.close_reason = reason[:255]
    await referral.save(using_db=conn, update_fields=["status", "closed_at", "close_reason"])
    await audit.record(
        f"referral.{status}",
        "referral",
        referral.id,
        actor=actor,
        before=before,
        after=snapshot(referral) | {"reason": reason},
        conn=conn,
    )


async def return_seat(
    conn: BaseDBAsyncClient,
    referral: Referral,
    app: Application,
    *,
    actor: str,
    settings: Settings,
) -> None:
    """The referral's seat is withdrawn and a new seat released in its group (a new release:
    the queue's next eligible application gets the priority offer, not this one)."""
    await Seat.filter(id=referral.seat_id).using_db(conn).update(status=SeatStatus.withdrawn)
    await audit.record(
        "seat.returned",
        "seat",
        referral.seat_id,
        actor=actor,
        before={"status": str(SeatStatus.taken)},
        after={"status": str(SeatStatus.withdrawn), "referral_id": referral.id},
        conn=conn,
    )
    group = await Group.get(id=referral.group_id, using_db=conn)
    await release_in(
        conn, group, 1, actor=actor, settings=settings, exclude_application_ids=(app.id,)
    )


def snapshot(referral: Referral) -> dict[str, object]:
    """The audited state of a referral."""
    return {
        "number": referral.number,
        "application_id": referral.application_id,
        "seat_id": referral.seat_id,
        "group_id": referral.group_id,
        "status": str(referral.status),
        "expires_at": referral.expires_at.isoformat(),
        "extended": referral.extended,
    }
