"""Staff undo their own decision: an enrolment, a revocation, a benefit decision, a seat release,
a child's departure (`undo_dismissal`: refused once the freed seat was released again).

Within `staff_undo_minutes` of the decision (measured from its audit entry) any staff member who
may act on its kindergarten (the scope of the decision itself) undoes it; later only a superadmin
(`undo_window_passed`). The state goes back through the lifecycle (`core.applications.lifecycle`
for the application's status), every step is audited as `<action>.undone`, and the parent is told.

A revocation (or a rejection that annulled a referral) released the referral's seat again: it is
undone only while that new seat is still free, which is then withdrawn with the offers it made;
once somebody took it, or the application holds another live referral, `undo_not_possible`.

A seat release undone withdraws the seats nobody took yet; the open offers of that release
lapse (their parents are told the seat is gone and their place is kept); referrals already issued
from its seats stay (`preview_release_undo` counts them for the staff member's question).

Lock order as everywhere: application, then referral, then seats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.applications.lifecycle import Event, lock_application, transition
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationStatus,
    ArchiveReason,
    AuditEntry,
    BenefitStatus,
    Departure,
    Group,
    Kindergarten,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
    StaffMember,
    StaffRole,
    Stream,
)
from core.notifications import outbox
from core.notifications.kinds import (
    BenefitDecisionUndone,
    OfferWithdrawn,
    Place,
    ReferralDismissalUndone,
    ReferralEnrolmentUndone,
    ReferralRevocationUndone,
)
from core.people.staff import actor as actor_of
from core.people.staff import application_in_scope, check_scope
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.order import sync_choices
from core.referrals.departures import current_departure
from core.referrals.records import lock_referral, snapshot
from core.seats.releases import group_seats


async def undo_enrolment(referral_id: int, staff: StaffMember, *, settings: Settings) -> Referral:
    """The enrolment was marked by mistake: the referral waits for the enrolment again and the
    application is back in the queue (active) at its original time."""
    async with in_transaction() as conn:
        app, referral = await lock_referral(conn, referral_id)
        await _check_referral_scope(conn, staff, referral)
        if referral.status != ReferralStatus.enrolled:
            raise DomainError(Reason.undo_not_possible, number=referral.number)
        done = await _decision(conn, "referral.enrolled", "referral", referral.id)
        _check_window(done, staff, settings)
        archived = await _after(conn, done, "application.archived", "application", app.id)
        if (
            app.status != ApplicationStatus.archived
            or app.archive_reason != ArchiveReason.enrolled
            or archived is None
            or (archived.before or {}).get("status") != str(ApplicationStatus.active)
            or await _other_live(conn, app.id, referral.id)
        ):
            raise DomainError(Reason.undo_not_possible, number=referral.number)
        actor = actor_of(staff)
        await _reopen(
            conn, referral, ReferralStatus.awaiting_enrollment, "referral.enrolled", actor
        )
        await transition(conn, app, Event.enrolment_undone, actor=actor)
        await outbox.notify(
            await Applicant.get(id=app.applicant_id, using_db=conn),
            ReferralEnrolmentUndone(
                referral_id=referral.id,
                number=referral.number,
                application_number=app.number,
                place=await _place(conn, referral),
            ),
            key=f"referral_enrolment_undone:{referral.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )
        return referral


async def undo_revocation(referral_id: int, staff: StaffMember, *, settings: Settings) -> Referral:
    """The revocation was made by mistake: the referral is live again in its old status and
    holds its old seat; the seat the revocation released (still free) is withdrawn with its
    offers."""
    async with in_transaction() as conn:
        app, referral = await lock_referral(conn, referral_id)
        await _check_referral_scope(conn, staff, referral)
        if referral.status != ReferralStatus.revoked:
            raise DomainError(Reason.undo_not_possible, number=referral.number)
        done = await _decision(conn, "referral.revoked", "referral", referral.id)
        _check_window(done, staff, settings)
        actor = actor_of(staff)
        await _restore_closed(conn, app, referral, done, actor)
        await outbox.notify(
            await Applicant.get(id=app.applicant_id, using_db=conn),
            ReferralRevocationUndone(
                referral_id=referral.id,
                number=referral.number,
                application_number=app.number,
                place=await _place(conn, referral),
                expires_at=referral.expires_at,
            ),
            key=f"referral_revocation_undone:{referral.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )
        return referral


async def undo_dismissal(referral_id: int, staff: StaffMember, *, settings: Settings) -> Referral:
    """The departure was recorded by mistake: the child is enrolled again and fills a seat of
    the group once more, so this is refused (`undo_not_possible`) when staff have meanwhile
    released the seat the departure freed (the group would be over its capacity)."""
    async with in_transaction() as conn:
        app, referral = await lock_referral(conn, referral_id)
        await _check_referral_scope(conn, staff, referral)
        departure = await current_departure(conn, referral.id)
        if referral.status != ReferralStatus.departed or departure is None:
            raise DomainError(Reason.undo_not_possible, number=referral.number)
        done = await _decision(conn, "referral.departed", "referral", referral.id)
        _check_window(done, staff, settings)
        # The group's row lock, as a release takes it: no release of the group meanwhile.
        group = (
            await Group.filter(id=referral.group_id)
            .select_for_update(no_key=True)
            .using_db(conn)
            .get()
        )
        if (await group_seats(group, conn)).releasable < 1:
            raise DomainError(Reason.undo_not_possible, number=referral.number)
        actor = actor_of(staff)
        now = clock.now()
        await (
            Departure.filter(id=departure.id).using_db(conn).update(undone_at=now, undone_by=actor)
        )
        before = snapshot(referral)
        referral.status = ReferralStatus.enrolled
        await referral.save(using_db=conn, update_fields=["status"])
        await audit.record(
            "referral.departed.undone",
            "referral",
            referral.id,
            actor=actor,
            before=before,
            after=snapshot(referral)
            | {
                "kindergarten_id": referral.kindergarten_id,
                "group_id": referral.group_id,
                "departure_id": departure.id,
            },
            conn=conn,
        )
        await outbox.notify(
            await Applicant.get(id=app.applicant_id, using_db=conn),
            ReferralDismissalUndone(
                referral_id=referral.id,
                number=referral.number,
                application_number=app.number,
                place=await _place(conn, referral),
            ),
            key=f"referral_dismissal_undone:{referral.id}:{departure.id}",
            conn=conn,
        )
        return referral


async def undo_benefit_decision(
    application_id: int, staff: StaffMember, *, settings: Settings
) -> Application:
    """The benefit decision was made by mistake: the benefit waits for a decision again. A
    confirmation puts a referral it validated back to waiting for the confirmation; a rejection
    gives the benefit and stream back and, when it annulled a referral, restores the referral
    (its seat still free) and takes the application off the stop-list the rejection caused."""
    await application_in_scope(staff, application_id)
    async with in_transaction() as conn:
        app = await lock_application(conn, application_id)
        done = (
            await AuditEntry.filter(
                action__in=("benefit.confirmed", "benefit.rejected"),
                entity="application",
                entity_id=str(app.id),
            )
            .using_db(conn)
            .order_by("-id")
            .first()
        )
        decision = "" if done is None else done.action.split(".", 1)[1]
        if done is None or app.benefit_status != BenefitStatus(decision):
            raise DomainError(Reason.undo_not_possible, number=app.number)
        _check_window(done, staff, settings)
        actor = actor_of(staff)
        if decision == "confirmed":
            number = await _undo_confirmation(conn, app, done, actor)
        else:
            number = await _undo_rejection(conn, app, done, actor)
        await outbox.notify(
            await Applicant.get(id=app.applicant_id, using_db=conn),
            BenefitDecisionUndone(
                application_number=app.number, decision=decision, referral_number=number
            ),
            key=f"benefit_decision_undone:{app.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )
        return app


@dataclass(frozen=True)
class ReleaseUndo:
    """What undoing a seat release does (asked before, told after): `withdrawn` seats nobody
    took are withdrawn, `lapsed` open offers lapse (those parents are told), `kept` referrals
    already issued from its seats stay."""

    release_id: int
    seats: int
    withdrawn: int
    lapsed: int
    kept: int


async def preview_release_undo(
    release_id: int, staff: StaffMember, *, settings: Settings
) -> ReleaseUndo:
    """Read-only: what `undo_release` would do now; refuses as it would (scope, window, nothing
    left to withdraw)."""
    release = await _release_in_scope(release_id, staff)
    done = await _decision(None, "seats.released", "seat_release", release.id)
    _check_window(done, staff, settings)
    undo = await _release_counts(None, release)
    if not undo.withdrawn:
        raise DomainError(Reason.undo_not_possible)
    return undo


async def undo_release(release_id: int, staff: StaffMember, *, settings: Settings) -> ReleaseUndo:
    """The release was a mistake: its seats still free are withdrawn, its open offers lapse and
    their parents are told; referrals already issued from it stay. Audited `seats.released.undone`
    (a leaf of the public log). `undo_not_possible` once every seat is taken or withdrawn."""
    release = await _release_in_scope(release_id, staff)
    async with in_transaction() as conn:
        # The group's row lock, as a release takes it: no release of the group runs meanwhile.
        group = Group.filter(id=release.group_id)
        await group.select_for_update(no_key=True).using_db(conn).first()
        done = await _decision(conn, "seats.released", "seat_release", release.id)
        _check_window(done, staff, settings)
        free = (
            await Seat.filter(release_id=release.id, status=SeatStatus.free)
            .select_for_update()
            .using_db(conn)
        )
        if not free:
            raise DomainError(Reason.undo_not_possible)
        # Locked while free: nobody takes them meanwhile (take_seat updates only a free seat).
        withdrawn = [seat.id for seat in free]
        await Seat.filter(id__in=withdrawn).using_db(conn).update(status=SeatStatus.withdrawn)
        actor = actor_of(staff)
        lapsed = await _lapse_offers(conn, release.id, await _release_place(conn, release), actor)
        undo = await _release_counts(conn, release)
        undo = ReleaseUndo(
            release_id=release.id,
            seats=release.seats,
            withdrawn=len(withdrawn),
            lapsed=lapsed,
            kept=undo.kept,
        )
        await audit.record(
            "seats.released.undone",
            "seat_release",
            release.id,
            actor=actor,
            after={
                "group_id": release.group_id,
                "kindergarten_id": release.kindergarten_id,
                "seats": release.seats,
                "withdrawn": undo.withdrawn,
                "seat_ids": sorted(withdrawn),
                "offers_lapsed": undo.lapsed,
                "referrals_kept": undo.kept,
            },
            conn=conn,
        )
        return undo


async def undo_deadline(
    action: str, entity: str, entity_id: int, settings: Settings
) -> datetime | None:
    """Until when the same staff may undo the latest `action` on the entity (None: never done)."""
    done = (
        await AuditEntry.filter(action=action, entity=entity, entity_id=str(entity_id))
        .order_by("-id")
        .first()
    )
    return None if done is None else done.at + timedelta(minutes=settings.staff_undo_minutes)


# --- the benefit decision -----------------------------------------------------------------------


async def _undo_confirmation(
    conn: BaseDBAsyncClient, app: Application, done: AuditEntry, actor: str
) -> str | None:
    """Back to pending; the referral the confirmation validated waits for it again with its old
    deadline (refused once that referral was used or closed)."""
    validated = await _after(conn, done, "referral.benefit_confirmed", "referral", None)
    referral: Referral | None = None
    if validated is not None and (validated.after or {}).get("application_id") == app.id:
        referral = (
            await Referral.filter(id=int(validated.entity_id))
            .select_for_update()
            .using_db(conn)
            .get()
        )
        if referral.status != ReferralStatus.awaiting_enrollment:
            raise DomainError(Reason.undo_not_possible, number=app.number)
    before = {"benefit_status": str(app.benefit_status)}
    app.benefit_status = BenefitStatus.pending
    await app.save(using_db=conn, update_fields=["benefit_status"])
    await audit.record(
        "benefit.confirmed.undone",
        "application",
        app.id,
        actor=actor,
        before=before,
        after={"benefit_status": str(app.benefit_status)},
        conn=conn,
    )
    if referral is None or validated is None:
        return None
    old = validated.before or {}
    before_referral = snapshot(referral)
    referral.status = ReferralStatus.awaiting_benefit_confirmation
    referral.expires_at = datetime.fromisoformat(str(old["expires_at"]))
    await referral.save(using_db=conn, update_fields=["status", "expires_at"])
    await audit.record(
        "referral.benefit_confirmed.undone",
        "referral",
        referral.id,
        actor=actor,
        before=before_referral,
        after=snapshot(referral),
        conn=conn,
    )
    return referral.number


async def _undo_rejection(
    conn: BaseDBAsyncClient, app: Application, done: AuditEntry, actor: str
) -> str | None:
    """The benefit, its stream and pending status back; a referral the rejection annulled is
    restored (its seat still free) and the stop-list it caused lifted."""
    annulled = await _after(conn, done, "referral.annulled", "referral", None)
    referral: Referral | None = None
    if annulled is not None and (annulled.after or {}).get("application_id") == app.id:
        referral = (
            await Referral.filter(id=int(annulled.entity_id))
            .select_for_update()
            .using_db(conn)
            .get()
        )
        if referral.status != ReferralStatus.annulled:
            raise DomainError(Reason.undo_not_possible, number=app.number)
    old = done.before or {}
    before = {
        "benefit_category": app.benefit_category,
        "benefit_status": str(app.benefit_status),
        "stream": int(app.stream),
    }
    app.benefit_category = old.get("benefit_category")
    app.benefit_status = BenefitStatus.pending
    app.stream = Stream(int(old.get("stream", int(Stream.general))))
    await app.save(using_db=conn, update_fields=["benefit_category", "benefit_status", "stream"])
    await sync_choices(app, conn)
    await audit.record(
        "benefit.rejected.undone",
        "application",
        app.id,
        actor=actor,
        before=before,
        after={
            "benefit_category": app.benefit_category,
            "benefit_status": str(app.benefit_status),
            "stream": int(app.stream),
        },
        conn=conn,
    )
    if referral is None or annulled is None:
        return None
    await _restore_closed(conn, app, referral, annulled, actor)
    stopped = await _after(conn, done, "application.stop_listed", "application", app.id)
    if (
        stopped is not None
        and app.status == ApplicationStatus.stop_listed
        and (stopped.before or {}).get("status") == str(ApplicationStatus.active)
    ):
        await transition(conn, app, Event.benefit_rejection_undone, actor=actor)
    return referral.number


# --- a closed referral back to life -------------------------------------------------------------


async def _restore_closed(
    conn: BaseDBAsyncClient,
    app: Application,
    referral: Referral,
    closed: AuditEntry,
    actor: str,
) -> None:
    """Undo `close` + `return_seat`: the seat released in the referral's place must still be
    free; it is withdrawn (its open offers lapse) and the referral takes its old seat again."""
    if await _other_live(conn, app.id, referral.id):
        raise DomainError(Reason.undo_not_possible, number=referral.number)
    returned = await _after(conn, closed, "seat.returned", "seat", referral.seat_id)
    released = (
        None
        if returned is None
        else await _after(conn, returned, "seats.released", "seat_release", None)
    )
    if released is None:
        raise DomainError(Reason.undo_not_possible, number=referral.number)
    release_id = int(released.entity_id)
    seats = await Seat.filter(release_id=release_id).select_for_update().using_db(conn)
    if not seats or any(seat.status != SeatStatus.free for seat in seats):
        raise DomainError(Reason.undo_not_possible, number=referral.number)
    await Seat.filter(release_id=release_id).using_db(conn).update(status=SeatStatus.withdrawn)
    await _lapse_offers(conn, release_id, await _place(conn, referral), actor)
    await Seat.filter(id=referral.seat_id).using_db(conn).update(status=SeatStatus.taken)
    await audit.record(
        "seat.returned.undone",
        "seat",
        referral.seat_id,
        actor=actor,
        before={"status": str(SeatStatus.withdrawn)},
        after={
            "status": str(SeatStatus.taken),
            "referral_id": referral.id,
            "withdrawn_release_id": release_id,
        },
        conn=conn,
    )
    status = ReferralStatus(str((closed.before or {}).get("status")))
    await _reopen(conn, referral, status, closed.action, actor)


async def _lapse_offers(conn: BaseDBAsyncClient, release_id: int, place: Place, actor: str) -> int:
    """The release's open offers lapse (its seats are gone) and each parent is told their place
    in the queue is kept; how many lapsed."""
    offers = await Offer.filter(release_id=release_id, status=OfferStatus.open).using_db(conn)
    for offer in offers:
        await Offer.filter(id=offer.id).using_db(conn).update(status=OfferStatus.lapsed)
        await audit.record(
            "offer.lapsed",
            "offer",
            offer.id,
            actor=actor,
            after={"application_id": offer.application_id, "release_id": release_id},
            conn=conn,
        )
        # The parent was told the seat was theirs to take: they are told it is gone.
        offered = await Application.get(id=offer.application_id, using_db=conn)
        await outbox.notify(
            await Applicant.get(id=offered.applicant_id, using_db=conn),
            OfferWithdrawn(application_number=offered.number, place=place),
            key=f"offer_withdrawn:{offer.id}",
            conn=conn,
        )
    return len(offers)


async def _release_in_scope(release_id: int, staff: StaffMember) -> SeatRelease:
    release = await SeatRelease.get_or_none(id=release_id)
    if release is None:  # no such release: nothing to undo
        raise DomainError(Reason.undo_not_possible)
    check_scope(staff, await Kindergarten.get(id=release.kindergarten_id))
    return release


async def _release_counts(conn: BaseDBAsyncClient | None, release: SeatRelease) -> ReleaseUndo:
    seats = Seat.filter(release_id=release.id).using_db(conn)
    seat_ids = await seats.values_list("id", flat=True)
    return ReleaseUndo(
        release_id=release.id,
        seats=release.seats,
        withdrawn=await seats.filter(status=SeatStatus.free).count(),
        lapsed=await Offer.filter(release_id=release.id, status=OfferStatus.open)
        .using_db(conn)
        .count(),
        kept=await Referral.filter(seat_id__in=list(seat_ids)).using_db(conn).count(),
    )


async def _release_place(conn: BaseDBAsyncClient, release: SeatRelease) -> Place:
    kindergarten = await Kindergarten.get(id=release.kindergarten_id, using_db=conn)
    return Place.of(kindergarten, await Group.get(id=release.group_id, using_db=conn))


async def _reopen(
    conn: BaseDBAsyncClient,
    referral: Referral,
    status: ReferralStatus,
    action: str,
    actor: str,
) -> None:
    before = snapshot(referral)
    referral.status = status
    referral.closed_at = None
    referral.close_reason = ""
    await referral.save(using_db=conn, update_fields=["status", "closed_at", "close_reason"])
    await audit.record(
        f"{action}.undone",
        "referral",
        referral.id,
        actor=actor,
        before=before,
        after=snapshot(referral)
        | {"kindergarten_id": referral.kindergarten_id, "group_id": referral.group_id},
        conn=conn,
    )


# --- checks and look-ups ------------------------------------------------------------------------


async def _check_referral_scope(
    conn: BaseDBAsyncClient, staff: StaffMember, referral: Referral
) -> None:
    check_scope(staff, await Kindergarten.get(id=referral.kindergarten_id, using_db=conn))


def _check_window(done: AuditEntry, staff: StaffMember, settings: Settings) -> None:
    """After `staff_undo_minutes` only a superadmin may undo."""
    window = timedelta(minutes=settings.staff_undo_minutes)
    if clock.now() - done.at > window and staff.role != StaffRole.superadmin:
        raise DomainError(Reason.undo_window_passed, minutes=settings.staff_undo_minutes)


async def _decision(
    conn: BaseDBAsyncClient | None, action: str, entity: str, entity_id: int
) -> AuditEntry:
    """The latest audit entry of the decision being undone."""
    done = (
        await AuditEntry.filter(action=action, entity=entity, entity_id=str(entity_id))
        .using_db(conn)
        .order_by("-id")
        .first()
    )
    if done is None:
        raise DomainError(Reason.undo_not_possible)
    return done


async def _after(
    conn: BaseDBAsyncClient,
    done: AuditEntry,
    action: str,
    entity: str,
    entity_id: int | None,
) -> AuditEntry | None:
    """The entry of `action` written in the same transaction as `done`, just after it (a
    transaction's entries are consecutive: the chain's lock is held until its commit)."""
    query = AuditEntry.filter(id__gt=done.id, at__lte=done.at + _SAME_TRANSACTION, action=action)
    query = query.filter(entity=entity)
    if entity_id is not None:
        query = query.filter(entity_id=str(entity_id))
    return await query.using_db(conn).order_by("id").first()


_SAME_TRANSACTION = timedelta(minutes=1)


async def _other_live(conn: BaseDBAsyncClient, application_id: int, referral_id: int) -> bool:
    return (
        await Referral.filter(application_id=application_id, status__in=LIVE_REFERRAL_STATUSES)
        .exclude(id=referral_id)
        .using_db(conn)
        .exists()
    )


async def _place(conn: BaseDBAsyncClient, referral: Referral) -> Place:
    kindergarten = await Kindergarten.get(id=referral.kindergarten_id, using_db=conn)
    return Place.of(kindergarten, await Group.get(id=referral.group_id, using_db=conn))


async def undo_subject(what: str, row_id: int, staff: StaffMember) -> str:
    """The number the staff member's undo question names ("enrol"/"revoke"/"dismiss": the
    referral's,
    "benefit": the application's), if they may act on it; `referral_not_found` or
    `application_not_found` for an id that is no row (a forged button)."""
    if what == "benefit":
        return str((await application_in_scope(staff, row_id)).number)
    referral = await Referral.get_or_none(id=row_id)
    if referral is None:
        raise DomainError(Reason.referral_not_found)
    check_scope(staff, await Kindergarten.get(id=referral.kindergarten_id))
    return referral.number
