"""A child leaves the kindergarten: staff record the departure of an enrolled child.

The referral becomes `departed` and a `Departure` row says when and why; the child no longer
fills a seat of the group, so staff may release one more seat (`core.seats.releases.group_seats`
counts enrolled referrals only). Nothing is released automatically: the kindergarten decides
when the place is offered. The application stays archived (the child was enrolled).

Audited `referral.departed` (a leaf of the public log with the reason code, never the typed
words); the parent is told. Undone as a mistake by `core.referrals.undo.undo_dismissal`.
Lock order as everywhere: application, then referral.
"""

from __future__ import annotations

from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.models import (
    Applicant,
    Departure,
    DepartureReason,
    Group,
    Kindergarten,
    Referral,
    ReferralStatus,
    StaffMember,
)
from core.notifications import outbox
from core.notifications.kinds import Place, ReferralDismissed
from core.people.staff import actor as actor_of
from core.people.staff import check_scope
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.referrals.records import lock_referral, snapshot

NOTE_LENGTH = 200  # what the parent's message shows of a typed reason


async def dismiss(
    referral_id: int,
    reason: DepartureReason | str,
    staff: StaffMember,
    *,
    settings: Settings,
    note: str = "",
    left_on: date | None = None,
) -> Departure:
    """The enrolled child left the kindergarten on `left_on` (today by default) for `reason`
    ("other" needs the staff member's `note`). Refused `out_of_scope` outside the staff member's
    kindergartens, `referral_not_enrolled` unless enrolled, `referral_already_departed` twice,
    `departure_date_out_of_range` for a day before the enrolment or in the future."""
    if str(reason) not in {str(code) for code in DepartureReason}:
        raise DomainError(Reason.invalid_departure_reason)  # no code the bot offers
    reason = DepartureReason(reason)
    note = " ".join(note.split())[:NOTE_LENGTH]
    if reason is DepartureReason.other and not note:
        raise DomainError(Reason.departure_reason_required)
    left_on = left_on or local_today(settings)
    async with in_transaction() as conn:
        app, referral = await lock_referral(conn, referral_id)
        kindergarten = await Kindergarten.get(id=referral.kindergarten_id, using_db=conn)
        check_scope(staff, kindergarten)
        await refuse_departed(referral, conn)
        if referral.status != ReferralStatus.enrolled:
            raise DomainError(
                Reason.referral_not_enrolled, number=referral.number, status=str(referral.status)
            )
        check_left_on(referral, left_on, settings)
        actor = actor_of(staff)
        before = snapshot(referral)
        referral.status = ReferralStatus.departed
        # closed_at stays the enrolment's moment: the departure has its own row.
        await referral.save(using_db=conn, update_fields=["status"])
        departure = await Departure.create(
            referral_id=referral.id,
            application_id=app.id,
            group_id=referral.group_id,
            kindergarten_id=referral.kindergarten_id,
            left_on=left_on,
            reason=reason,
            note=note if reason is DepartureReason.other else "",
            actor=actor,
            created_at=clock.now(),
            using_db=conn,
        )
        await audit.record(
            "referral.departed",
            "referral",
            referral.id,
            actor=actor,
            before=before,
            after=snapshot(referral)
            | {
                "kindergarten_id": referral.kindergarten_id,
                "group_id": referral.group_id,
                "departure_id": departure.id,
                "left_on": left_on.isoformat(),
                "reason": str(reason),  # a code: the public log shows it
                "note": departure.note,  # the typed words: the audit only, never the log
            },
            conn=conn,
        )
        group = await Group.get(id=referral.group_id, using_db=conn)
        await outbox.notify(
            await Applicant.get(id=app.applicant_id, using_db=conn),
            ReferralDismissed(
                referral_id=referral.id,
                number=referral.number,
                application_number=app.number,
                place=Place.of(kindergarten, group),
                left_on=left_on,
                reason_code=str(reason),
                reason=departure.note,
            ),
            key=f"referral_dismissed:{referral.id}:{departure.id}",
            conn=conn,
        )
        return departure


def check_left_on(referral: Referral, left_on: date, settings: Settings) -> None:
    """A child leaves on a day from its enrolment to today (local dates), else
    `departure_date_out_of_range` naming both ends."""
    enrolled_on = (referral.closed_at or clock.now()).astimezone(settings.tz).date()
    today = local_today(settings)
    if not enrolled_on <= left_on <= today:
        raise DomainError(
            Reason.departure_date_out_of_range,
            earliest=enrolled_on.isoformat(),
            latest=today.isoformat(),
        )


async def enrolled_referral(application_number: int) -> Referral:
    """The referral an application's child is (or was) enrolled on: staff may search by the
    application number. `referral_not_found` without one."""
    found = (
        await Referral.filter(
            application__number=application_number,
            status__in=(ReferralStatus.enrolled, ReferralStatus.departed),
        )
        .order_by("-id")
        .first()
    )
    if found is None:
        raise DomainError(Reason.referral_not_found, number=str(application_number))
    return found


async def refuse_departed(referral: Referral, conn: BaseDBAsyncClient | None = None) -> None:
    """`referral_already_departed`, naming the date the child left, for a departed referral."""
    if referral.status == ReferralStatus.departed:
        departed = await current_departure(conn, referral.id)
        raise DomainError(
            Reason.referral_already_departed,
            number=referral.number,
            left_on=departed.left_on.isoformat() if departed else "",
        )


async def current_departure(conn: BaseDBAsyncClient | None, referral_id: int) -> Departure | None:
    """The departure in force of a departed referral (None once undone)."""
    return (
        await Departure.filter(referral_id=referral_id, undone_at=None)
        .using_db(conn)
        .order_by("-id")
        .first()
    )
