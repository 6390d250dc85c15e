"""Referrals: taking a seat, and everything that happens to a referral afterwards.

Taking a seat is one transaction: the application row is locked (so one child's claims queue
up), the child row too (a child's general and correctional applications share one limit), and
the seat is taken by a conditional update `status = free -> taken`, which PostgreSQL re-checks
after any concurrent writer commits, so a seat is never given twice. The loser of a race gets a
`DomainError` with a reason code.

Lock order everywhere in this module: application, then child, then referral, then seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from core import audit
from core.calendar.working_days import add_working_days
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    ArchiveReason,
    BenefitStatus,
    Child,
    Group,
    Kindergarten,
    Offer,
    OfferStatus,
    QueueType,
    Referral,
    ReferralStatus,
    Seat,
    SeatStatus,
    Stream,
)
from core.notifications import outbox
from core.notifications.kinds import (
    BenefitConfirmed,
    BenefitRejected,
    Place,
    ReferralExpired,
    ReferralExpiring,
    ReferralIssued,
    Restored,
    StopListed,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import OfferTimeout, Settings, get_settings
from core.queue import order as queue
from core.seats.releases import (
    application_problem,
    group_problem,
    local_today,
    release_in,
    twin_applications,
)

NUMBER_PREFIX = "NP"
REMINDER_BEFORE = timedelta(hours=24)

# What the parent brings to the kindergarten (DOMAIN.md); the bot translates the codes.
DOCUMENTS = (
    "referral",
    "parent_identity",
    "birth_certificate",
    "vaccination_card_065",
    "health_certificate_027",
    "photo_3x4",
    "digital_signature",
    "bank_account",
    "email",
)
CORRECTIONAL_DOCUMENTS = (*DOCUMENTS[:5], "pmpk_conclusion", *DOCUMENTS[5:])


def documents_for(queue_type: QueueType | str) -> tuple[str, ...]:
    return CORRECTIONAL_DOCUMENTS if queue_type == QueueType.correctional else DOCUMENTS


@dataclass(frozen=True)
class ReferralCard:
    id: int
    number: str
    status: str
    application_id: int
    application_number: int
    kindergarten_id: int
    kindergarten_name_ru: str
    kindergarten_name_kk: str
    group_name: str
    language: str
    issued_at: datetime
    expires_at: datetime
    extended: bool
    can_extend: bool
    live: bool
    documents: tuple[str, ...]


async def take_seat(
    application_id: int, group_id: int, *, actor: str, settings: Settings
) -> Referral:
    """Issue a referral to a free seat of the group this application may take now.

    Twins (DOMAIN.md: "born within a month are a batch: referred only when enough seats exist
    for all"): when the child has eligible twins (`twin_applications`), one seat of this group
    is taken for each of them in the same transaction and every one gets its referral; when the
    group has too few seats they may take, nobody gets one (`twins_need_seats`, with `count`
    the seats needed and `free` those found).

    In a rush most claims find no seat: `_precheck` refuses them with the same reason codes
    from a plain read, without a transaction or locks. The others pick seats with `FOR UPDATE
    SKIP LOCKED` (a seat another claim is taking is skipped, not waited for), and the audit
    entries are written at the end of the transaction (`audit.transaction`).
    """
    await _precheck(application_id, group_id, settings)
    from core.applications.submission import prepare_counter

    await prepare_counter("referral", 1)
    async with audit.transaction() as conn:
        found = await Application.get_or_none(id=application_id).using_db(conn)
        if found is None:
            raise DomainError("application_not_found")
        twin_ids = [twin.id for twin in await twin_applications(found, conn=conn)]
        # Lock order: applications by id, then children by id (a twin's claim locks the same).
        locked = {i: await _lock_application(conn, i) for i in sorted({application_id, *twin_ids})}
        for child_id in sorted({a.child_id for a in locked.values()}):
            await Child.filter(id=child_id).select_for_update(no_key=True).using_db(conn).first()
        app = locked[application_id]
        today = local_today(settings)
        problem = application_problem(app, today, settings)
        if problem is not None:
            raise DomainError("not_eligible", why=problem)
        live = await _live_referral_of_child(conn, app.child_id)
        if live is not None:
            raise DomainError("already_has_referral", number=live.number)
        group = await Group.get_or_none(id=group_id).using_db(conn)
        if group is None:
            raise DomainError("group_not_found", group_id=group_id)
        problem = group_problem(app, group)
        if problem is not None:
            raise DomainError("not_eligible", why=problem)
        kindergarten = await Kindergarten.get(id=group.kindergarten_id).using_db(conn)
        now = clock.now()

        # Twins that may be referred now, to this group (a twin of another birth year or
        # queue, stop-listed, waiting for its date or already holding a referral is not
        # part of the batch).
        batch = [app]
        for twin_id in twin_ids:
            twin = locked[twin_id]
            if (
                application_problem(twin, today, settings) is None
                and group_problem(twin, group) is None
                and await _live_referral_of_child(conn, twin.child_id) is None
            ):
                batch.append(twin)

        taken: list[tuple[Application, Seat]] = []
        for member in batch:
            try:
                # Locked by this transaction; seats other claims hold are skipped. A seat
                # taken for a twin above is no longer free, so it is not picked again.
                candidates = await _candidate_seats(
                    conn, member, group, kindergarten, now, lock=True
                )
            except DomainError:
                if member is app:
                    raise
                candidates = []
            used = {seat.id for _, seat in taken}
            seat = None
            for candidate in candidates:
                if candidate.id in used:
                    continue
                won = (
                    await Seat.filter(id=candidate.id, status=SeatStatus.free)
                    .using_db(conn)
                    .update(status=SeatStatus.taken, taken_at=now)
                )
                if won:
                    seat = candidate
                    break
            if seat is None:
                if len(batch) > 1:
                    # Raising rolls back the seats already taken for the other twins.
                    raise DomainError(
                        "twins_need_seats", group_id=group_id, count=len(batch), free=len(taken)
                    )
                raise DomainError("no_free_seat", group_id=group_id)
            taken.append((member, seat))

        referrals = [
            await _issue(
                conn, member, seat, group, kindergarten, now, actor=actor, settings=settings
            )
            for member, seat in taken
        ]
        return referrals[0]


async def _precheck(application_id: int, group_id: int, settings: Settings) -> None:
    """The refusals `take_seat` would give, from a plain read (no transaction, no locks).

    A refusal here is as of this moment, like one from inside the transaction a moment later;
    anything that might succeed goes on to the locked checks, which decide. On PostgreSQL one
    statement reads everything a refusal needs, so most claims of a rush cost one round trip."""
    conn = get_connection("default")
    if conn.capabilities.dialect != "postgres":
        return await _precheck_orm(application_id, group_id, settings)
    rows = await conn.execute_query_dict(_PRECHECK_SQL, [application_id, group_id, clock.now()])
    if not rows:
        raise DomainError("application_not_found")
    row = rows[0]
    app = SimpleNamespace(
        id=application_id,
        status=row["status"],
        referral_mode=row["referral_mode"],
        referral_from=row["referral_from"],
        birth_year=row["birth_year"],
        queue_type=row["queue_type"],
        child_id=row["child_id"],
        applicant_id=row["applicant_id"],
    )
    problem = application_problem(app, local_today(settings), settings)  # type: ignore[arg-type]
    if problem is not None:
        raise DomainError("not_eligible", why=problem)
    if row["live_number"] is not None:
        raise DomainError("already_has_referral", number=row["live_number"])
    if row["group_kind"] is None:
        raise DomainError("group_not_found", group_id=group_id)
    group = SimpleNamespace(kind=row["group_kind"], birth_year=row["group_birth_year"])
    problem = group_problem(app, group)  # type: ignore[arg-type]
    if problem is not None:
        raise DomainError("not_eligible", why=problem)
    if _seat_may_be_free(row["offered"], row["general"], row["reserved"]):
        return
    if not await twin_applications(app):  # type: ignore[arg-type]
        # (with twins the refusal is `twins_need_seats`: left to the transaction)
        raise DomainError("no_free_seat", group_id=group_id)


_LIVE = ", ".join(f"'{status.value}'" for status in LIVE_REFERRAL_STATUSES)
_PRECHECK_SQL = (
    "SELECT a.status, a.referral_mode, a.referral_from, a.birth_year, a.queue_type, "
    "a.child_id, a.applicant_id, g.kind AS group_kind, g.birth_year AS group_birth_year, "
    "(SELECT r.number FROM referral r JOIN application c ON c.id = r.application_id "
    f"  WHERE c.child_id = a.child_id AND r.status IN ({_LIVE}) LIMIT 1) AS live_number, "
    "EXISTS (SELECT 1 FROM seat s JOIN offer o ON o.release_id = s.release_id "
    "  WHERE s.group_id = $2 AND s.status = 'free' AND s.priority_end_at > $3 "
    "  AND o.application_id = a.id AND o.status = 'open') AS offered, "
    "EXISTS (SELECT 1 FROM seat WHERE group_id = $2 AND status = 'free' "
    "  AND priority_end_at <= $3) AS general, "
    "EXISTS (SELECT 1 FROM seat WHERE group_id = $2 AND status = 'free' "
    "  AND priority_end_at > $3) AS reserved "
    "FROM application a LEFT JOIN kgroup g ON g.id = $2 WHERE a.id = $1"
)


def _seat_may_be_free(offered: bool, general: bool, reserved: bool) -> bool:
    """True when a seat may be free for the claim (the transaction decides, and checks city
    and language for general access); refuses when the only free seats are in someone
    else's priority window; False when no seat is free at all."""
    if offered or general:
        return True
    if reserved:
        raise DomainError("not_eligible", why="priority_window")
    return False


async def _precheck_orm(application_id: int, group_id: int, settings: Settings) -> None:
    app = await Application.get_or_none(id=application_id)
    if app is None:
        raise DomainError("application_not_found")
    problem = application_problem(app, local_today(settings), settings)
    if problem is not None:
        raise DomainError("not_eligible", why=problem)
    live = await _live_referral_of_child(None, app.child_id)
    if live is not None:
        raise DomainError("already_has_referral", number=live.number)
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise DomainError("group_not_found", group_id=group_id)
    problem = group_problem(app, group)
    if problem is not None:
        raise DomainError("not_eligible", why=problem)
    if _seat_may_be_free(*await _free_seats_summary(app.id, group_id, clock.now())):
        return
    if not await twin_applications(app):
        # (with twins the refusal is `twins_need_seats`: left to the transaction)
        raise DomainError("no_free_seat", group_id=group_id)


async def _free_seats_summary(
    application_id: int, group_id: int, now: datetime
) -> tuple[bool, bool, bool]:
    """(a free seat of this application's open offers in its window, a free seat in general
    access, a free seat still in someone else's window), in one statement on PostgreSQL."""
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT EXISTS (SELECT 1 FROM seat s JOIN offer o ON o.release_id = s.release_id "
            "  WHERE s.group_id = $1 AND s.status = 'free' AND s.priority_end_at > $3 "
            "  AND o.application_id = $2 AND o.status = 'open') AS offered, "
            "EXISTS (SELECT 1 FROM seat WHERE group_id = $1 AND status = 'free' "
            "  AND priority_end_at <= $3) AS general, "
            "EXISTS (SELECT 1 FROM seat WHERE group_id = $1 AND status = 'free' "
            "  AND priority_end_at > $3) AS reserved",
            [group_id, application_id, now],
        )
        row = rows[0]
        return bool(row["offered"]), bool(row["general"]), bool(row["reserved"])
    releases = await Offer.filter(
        application_id=application_id, status=OfferStatus.open
    ).values_list("release_id", flat=True)
    free = Seat.filter(group_id=group_id, status=SeatStatus.free)
    offered = (
        bool(releases)
        and await free.filter(priority_end_at__gt=now, release_id__in=list(releases)).exists()
    )
    general = await free.filter(priority_end_at__lte=now).exists()
    reserved = await free.filter(priority_end_at__gt=now).exists()
    return offered, general, reserved


async def _issue(
    conn: BaseDBAsyncClient,
    app: Application,
    seat: Seat,
    group: Group,
    kindergarten: Kindergarten,
    now: datetime,
    *,
    actor: str,
    settings: Settings,
) -> Referral:
    """The referral for a seat just taken: offers closed, audit, the parent notified."""
    awaiting_benefit = (
        app.stream == Stream.extraordinary and app.benefit_status == BenefitStatus.pending
    )
    if awaiting_benefit:
        status = ReferralStatus.awaiting_benefit_confirmation
        expires_at = add_working_days(now, settings.benefit_confirm_working_days, settings.tz)
    else:
        status = ReferralStatus.awaiting_enrollment
        expires_at = add_working_days(now, settings.referral_valid_working_days, settings.tz)
    serial = await _next_value(conn, "referral")
    number = f"{NUMBER_PREFIX}-{now.astimezone(settings.tz).year}-{serial:06d}"
    referral = await Referral.create(
        number=number,
        application_id=app.id,
        seat_id=seat.id,
        group_id=group.id,
        kindergarten_id=kindergarten.id,
        status=status,
        issued_at=now,
        expires_at=expires_at,
        using_db=conn,
    )
    await (
        Offer.filter(application_id=app.id, release_id=seat.release_id, status=OfferStatus.open)
        .using_db(conn)
        .update(status=OfferStatus.taken)
    )
    # Other open offers of this child cannot be used while the referral lives.
    await (
        Offer.filter(application_id=app.id, status=OfferStatus.open)
        .using_db(conn)
        .update(status=OfferStatus.lapsed)
    )
    await audit.record(
        "seat.taken",
        "seat",
        seat.id,
        actor=actor,
        before={"status": str(SeatStatus.free)},
        after={"status": str(SeatStatus.taken), "application_id": app.id},
        conn=conn,
    )
    await audit.record(
        "referral.issued",
        "referral",
        referral.id,
        actor=actor,
        after=_snapshot(referral) | {"application_number": app.number},
        conn=conn,
    )
    applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
    await outbox.notify(
        applicant,
        ReferralIssued(
            referral_id=referral.id,
            number=number,
            application_number=app.number,
            place=Place.of(kindergarten, group),
            expires_at=expires_at,
            queue_type=str(app.queue_type),
            awaiting_benefit_confirmation=status == ReferralStatus.awaiting_benefit_confirmation,
        ),
        key=f"referral_issued:{referral.id}",
        conn=conn,
    )
    return referral


async def extend_referral(
    referral_id: int, applicant_id: int, *, actor: str, settings: Settings
) -> Referral:
    """The parent extends a referral once by `referral_extension_days` calendar days."""
    async with in_transaction() as conn:
        _app, referral = await _lock_referral(conn, referral_id, applicant_id)
        if (
            referral.status != ReferralStatus.awaiting_enrollment
            or referral.expires_at <= clock.now()
        ):
            raise DomainError("referral_not_extendable", status=str(referral.status))
        if referral.extended:
            raise DomainError(
                "referral_already_extended", expires_at=referral.expires_at.isoformat()
            )
        before = _snapshot(referral)
        referral.expires_at = referral.expires_at + timedelta(days=settings.referral_extension_days)
        referral.extended = True
        await referral.save(using_db=conn, update_fields=["expires_at", "extended"])
        await audit.record(
            "referral.extended",
            "referral",
            referral.id,
            actor=actor,
            before=before,
            after=_snapshot(referral),
            conn=conn,
        )
        return referral


async def decline_referral(
    referral_id: int, applicant_id: int, *, actor: str, settings: Settings
) -> Referral:
    """The parent declines a live referral: the seat is released again, the application stays
    in the queue at its place (no stop-list after a decline)."""
    async with in_transaction() as conn:
        app, referral = await _lock_referral(conn, referral_id, applicant_id)
        if referral.status not in LIVE_REFERRAL_STATUSES:
            raise DomainError("referral_not_live", status=str(referral.status))
        await _close(conn, referral, ReferralStatus.declined, "declined by the parent", actor)
        await _return_seat(conn, referral, app, actor=actor, settings=settings)
        return referral


async def enroll(referral_id: int, *, actor: str) -> Referral:
    """The kindergarten enrolled the child: the referral is used, the application archived."""
    async with in_transaction() as conn:
        app, referral = await _lock_referral(conn, referral_id)
        if referral.status != ReferralStatus.awaiting_enrollment:
            raise DomainError("referral_not_enrollable", status=str(referral.status))
        await _close(conn, referral, ReferralStatus.enrolled, "enrolled", actor)
        await set_application_status(
            conn,
            app,
            ApplicationStatus.archived,
            actor=actor,
            archive_reason=ArchiveReason.enrolled,
        )
        return referral


async def revoke(
    referral_id: int, reason: str, *, actor: str, settings: Settings | None = None
) -> Referral:
    """Staff revoke a live referral; the seat is released again, the application stays active."""
    settings = settings or get_settings()
    async with in_transaction() as conn:
        app, referral = await _lock_referral(conn, referral_id)
        if referral.status not in LIVE_REFERRAL_STATUSES:
            raise DomainError("referral_not_live", status=str(referral.status))
        await _close(conn, referral, ReferralStatus.revoked, reason, actor)
        await _return_seat(conn, referral, app, actor=actor, settings=settings)
        return referral


async def confirm_benefit(
    application_id: int,
    confirmed: bool,
    reason: str = "",
    *,
    actor: str,
    settings: Settings | None = None,
) -> Application:
    """Staff decide on an extraordinary benefit's document. Confirmed: a referral waiting for
    it starts its enrollment validity. Rejected: the benefit is removed (general stream); a
    referral waiting for it is annulled and the application stop-listed for `stop_list_days`."""
    settings = settings or get_settings()
    async with in_transaction() as conn:
        app = await _lock_application(conn, application_id)
        if app.benefit_status != BenefitStatus.pending:
            raise DomainError("benefit_not_pending", status=str(app.benefit_status))
        referral = (
            await Referral.filter(
                application_id=app.id, status=ReferralStatus.awaiting_benefit_confirmation
            )
            .select_for_update()
            .using_db(conn)
            .first()
        )
        applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
        if confirmed:
            before = {"benefit_status": str(app.benefit_status)}
            app.benefit_status = BenefitStatus.confirmed
            await app.save(using_db=conn, update_fields=["benefit_status"])
            await audit.record(
                "benefit.confirmed",
                "application",
                app.id,
                actor=actor,
                before=before,
                after={"benefit_status": str(app.benefit_status), "reason": reason},
                conn=conn,
            )
            confirmed_payload = BenefitConfirmed(application_number=app.number)
            if referral is not None:
                before = _snapshot(referral)
                referral.status = ReferralStatus.awaiting_enrollment
                referral.expires_at = add_working_days(
                    clock.now(), settings.referral_valid_working_days, settings.tz
                )
                await referral.save(using_db=conn, update_fields=["status", "expires_at"])
                await audit.record(
                    "referral.benefit_confirmed",
                    "referral",
                    referral.id,
                    actor=actor,
                    before=before,
                    after=_snapshot(referral),
                    conn=conn,
                )
                confirmed_payload = BenefitConfirmed(
                    application_number=app.number,
                    referral_number=referral.number,
                    expires_at=referral.expires_at,
                )
            await outbox.notify(
                applicant, confirmed_payload, key=f"benefit_confirmed:{app.id}", conn=conn
            )
        else:
            await _reject_benefit(conn, app, referral, reason, actor=actor, settings=settings)
        return app


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
    due = await Referral.filter(status__in=LIVE_REFERRAL_STATUSES, expires_at__lte=now).values_list(
        "id", flat=True
    )
    for referral_id in due:
        async with in_transaction() as conn:
            app, referral = await _lock_referral(conn, referral_id)
            if referral.status not in LIVE_REFERRAL_STATUSES or referral.expires_at > clock.now():
                continue  # another worker, or the parent, got there first
            if referral.status == ReferralStatus.awaiting_benefit_confirmation:
                await _reject_benefit(
                    conn,
                    app,
                    referral,
                    "benefit not confirmed in time",
                    actor="system",
                    settings=settings,
                )
            else:
                await _close(conn, referral, ReferralStatus.expired, "not used in time", "system")
                await _stop_list(
                    conn,
                    app,
                    days=settings.stop_list_days,
                    reason="referral_expired",
                    actor="system",
                    notify=False,
                )
                applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
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
                await _return_seat(conn, referral, app, actor="system", settings=settings)
            closed += 1

    await _lapse_offers(settings, now)
    return closed


async def restore_due(settings: Settings) -> int:
    """Timer: applications whose stop-list term ended are active again at their original
    time (their submission time never changed)."""
    now = clock.now()
    due = await Application.filter(
        status=ApplicationStatus.stop_listed, stop_listed_until__lte=now
    ).values_list("id", flat=True)
    restored = 0
    for application_id in due:
        async with in_transaction() as conn:
            app = await _lock_application(conn, application_id)
            if (
                app.status != ApplicationStatus.stop_listed
                or app.stop_listed_until is None
                or app.stop_listed_until > now
            ):
                continue
            await set_application_status(conn, app, ApplicationStatus.active, actor="system")
            applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
            await outbox.notify(
                applicant,
                Restored(application_number=app.number),
                key=f"restored:{app.id}:{int(now.timestamp())}",
                conn=conn,
            )
            restored += 1
    return restored


async def referrals_of(applicant_id: int) -> list[ReferralCard]:
    """The parent's referrals, newest first, as the cabinet shows them."""
    rows = (
        await Referral.filter(application__applicant_id=applicant_id)
        .order_by("-issued_at")
        .prefetch_related("application", "kindergarten", "group")
    )
    now = clock.now()
    cards = []
    for r in rows:
        live = r.status in LIVE_REFERRAL_STATUSES
        cards.append(
            ReferralCard(
                id=r.id,
                number=r.number,
                status=str(r.status),
                application_id=r.application.id,
                application_number=r.application.number,
                kindergarten_id=r.kindergarten.id,
                kindergarten_name_ru=r.kindergarten.name_ru,
                kindergarten_name_kk=r.kindergarten.name_kk,
                group_name=r.group.name,
                language=str(r.group.language),
                issued_at=r.issued_at,
                expires_at=r.expires_at,
                extended=r.extended,
                can_extend=r.status == ReferralStatus.awaiting_enrollment
                and not r.extended
                and r.expires_at > now,
                live=live,
                documents=documents_for(r.application.queue_type),
            )
        )
    return cards


# --- Helpers ---------------------------------------------------------------------------------


async def _lock_application(conn: BaseDBAsyncClient, application_id: int) -> Application:
    app = (
        await Application.filter(id=application_id)
        .select_for_update(no_key=True)
        .using_db(conn)
        .first()
    )
    if app is None:
        raise DomainError("application_not_found")
    return app


async def _lock_referral(
    conn: BaseDBAsyncClient, referral_id: int, applicant_id: int | None = None
) -> tuple[Application, Referral]:
    """Lock the referral's application, then the referral (the module's lock order)."""
    found = await Referral.get_or_none(id=referral_id).using_db(conn)
    if found is None:
        raise DomainError("referral_not_found")
    app = await _lock_application(conn, found.application_id)
    if applicant_id is not None and app.applicant_id != applicant_id:
        raise DomainError("referral_not_found")
    referral = await Referral.filter(id=referral_id).select_for_update().using_db(conn).get()
    return app, referral


async def _candidate_seats(
    conn: BaseDBAsyncClient | None,
    app: Application,
    group: Group,
    kindergarten: Kindergarten,
    now: datetime,
    *,
    lock: bool = False,
    limit: int = 50,
) -> list[Seat]:
    """Free seats of the group this application may take now: its offers' seats first, then
    general access; raises `not_eligible` when the only free seats are someone else's.

    `lock` (in a transaction): one seat, locked FOR UPDATE SKIP LOCKED (seats other claims
    are taking are skipped), so a claim never waits on another's seat and locks no more
    than it takes."""
    if lock:
        limit = 1
    releases = (
        await Offer.filter(application_id=app.id, status=OfferStatus.open)
        .using_db(conn)
        .values_list("release_id", flat=True)
    )
    offered_q = Seat.filter(
        group_id=group.id,
        status=SeatStatus.free,
        priority_end_at__gt=now,
        release_id__in=list(releases) or [0],
    )
    general_q = Seat.filter(group_id=group.id, status=SeatStatus.free, priority_end_at__lte=now)
    offered, general = await _pick(offered_q, general_q, bool(releases), lock, limit, conn)
    if lock and not offered and not general:
        # Every free seat is being taken by another claim right now. Wait for one of them to
        # be decided instead of refusing at once: the other claim may still fail, and a parent
        # told "taken" must not then see the seat in the fresh list.
        offered, general = await _pick(offered_q, general_q, bool(releases), "wait", limit, conn)
    if general and not offered:
        if kindergarten.city_id != app.city_id:
            raise DomainError("not_eligible", why="city_mismatch")
        languages = set(
            await ApplicationChoice.filter(application_id=app.id)
            .using_db(conn)
            .values_list("language", flat=True)
        )
        if languages and group.language not in languages:
            raise DomainError("not_eligible", why="language_mismatch")
    candidates = [*offered, *general]
    if not candidates:
        unlocked = Seat.filter(group_id=group.id, status=SeatStatus.free)
        if lock and await unlocked.filter(priority_end_at__lte=now).using_db(conn).exists():
            return []  # free seats exist, but other claims are taking them: no seat for this one
        reserved = (
            await unlocked.filter(priority_end_at__gt=now)
            .exclude(release_id__in=list(releases) or [0])
            .using_db(conn)
            .exists()
        )
        if reserved:
            raise DomainError("not_eligible", why="priority_window")
    return candidates


async def _pick(
    offered_q: Any,
    general_q: Any,
    has_offers: bool,
    lock: bool | str,
    limit: int,
    conn: BaseDBAsyncClient,
) -> tuple[list[Seat], list[Seat]]:
    """Offered seats first, then general access. lock=True skips seats other claims hold;
    lock="wait" waits for them (a row taken meanwhile no longer matches and is dropped)."""
    if lock:
        skip = lock is True
        offered_q = offered_q.select_for_update(skip_locked=skip)
        general_q = general_q.select_for_update(skip_locked=skip)
    offered = list(await offered_q.using_db(conn).order_by("id").limit(limit)) if has_offers else []
    if lock and offered:
        return offered, []
    return offered, list(await general_q.using_db(conn).order_by("id").limit(limit))


async def _live_referral_of_child(conn: BaseDBAsyncClient | None, child_id: int) -> Referral | None:
    return (
        await Referral.filter(application__child_id=child_id, status__in=LIVE_REFERRAL_STATUSES)
        .using_db(conn)
        .first()
    )


async def _next_value(conn: BaseDBAsyncClient, name: str) -> int:
    """Increment a named counter atomically (never reused, even after a rollback elsewhere).

    PostgreSQL: a sequence (no row lock held to the commit, so concurrent winners of a rush
    do not queue on it; a rolled-back claim leaves a gap in the serials)."""
    if conn.capabilities.dialect == "postgres":
        from core.applications.submission import next_number

        return await next_number(name, 1, conn=conn)
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    rows = await conn.execute_query_dict(
        "INSERT INTO counter (name, value) VALUES "
        f"({mark}, 1) ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 RETURNING value",
        [name],
    )
    return int(rows[0]["value"])


def _snapshot(referral: Referral) -> dict[str, object]:
    return {
        "number": referral.number,
        "application_id": referral.application_id,
        "seat_id": referral.seat_id,
        "group_id": referral.group_id,
        "status": str(referral.status),
        "expires_at": referral.expires_at.isoformat(),
        "extended": referral.extended,
    }


async def _close(
    conn: BaseDBAsyncClient, referral: Referral, status: ReferralStatus, reason: str, actor: str
) -> None:
    before = _snapshot(referral)
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
        after=_snapshot(referral) | {"reason": reason},
        conn=conn,
    )


async def _return_seat(
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
    group = await Group.get(id=referral.group_id).using_db(conn)
    await release_in(
        conn, group, 1, actor=actor, settings=settings, exclude_application_ids=(app.id,)
    )


async def set_application_status(
    conn: BaseDBAsyncClient,
    app: Application,
    status: ApplicationStatus,
    *,
    actor: str,
    archive_reason: ArchiveReason | None = None,
    until: datetime | None = None,
    reason: str = "",
) -> None:
    before = {
        "status": str(app.status),
        "stop_listed_until": app.stop_listed_until.isoformat() if app.stop_listed_until else None,
    }
    app.status = status
    app.archive_reason = archive_reason
    app.stop_listed_until = until if status == ApplicationStatus.stop_listed else None
    await app.save(using_db=conn, update_fields=["status", "archive_reason", "stop_listed_until"])
    await queue.sync_choices(app, conn)
    await audit.record(
        f"application.{status}",
        "application",
        app.id,
        actor=actor,
        before=before,
        after={
            "status": str(status),
            "archive_reason": str(archive_reason) if archive_reason else None,
            "stop_listed_until": until.isoformat() if until else None,
            "reason": reason,
        },
        conn=conn,
    )


async def _stop_list(
    conn: BaseDBAsyncClient,
    app: Application,
    *,
    days: int | None,
    reason: str,
    actor: str,
    notify: bool = True,
) -> None:
    """Put the application on the stop-list for `days` calendar days (None: indefinitely)."""
    until = clock.now() + timedelta(days=days) if days is not None else None
    await set_application_status(
        conn, app, ApplicationStatus.stop_listed, actor=actor, until=until, reason=reason
    )
    if notify:
        applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
        await outbox.notify(
            applicant,
            StopListed(
                application_id=app.id, application_number=app.number, reason=reason, until=until
            ),
            key=f"stop_listed:{reason}:{app.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )


async def _reject_benefit(
    conn: BaseDBAsyncClient,
    app: Application,
    referral: Referral | None,
    reason: str,
    *,
    actor: str,
    settings: Settings,
) -> None:
    before = {
        "benefit_category": app.benefit_category,
        "benefit_status": str(app.benefit_status),
        "stream": int(app.stream),
    }
    app.benefit_category = None
    app.benefit_status = BenefitStatus.rejected
    app.stream = Stream.general
    await app.save(using_db=conn, update_fields=["benefit_category", "benefit_status", "stream"])
    await queue.sync_choices(app, conn)
    await audit.record(
        "benefit.rejected",
        "application",
        app.id,
        actor=actor,
        before=before,
        after={
            "benefit_category": None,
            "benefit_status": "rejected",
            "stream": 2,
            "reason": reason,
        },
        conn=conn,
    )
    applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
    rejected = BenefitRejected(application_number=app.number, reason=reason)
    if referral is not None:
        await _close(conn, referral, ReferralStatus.annulled, reason, actor)
        await _stop_list(
            conn,
            app,
            days=settings.stop_list_days,
            reason="benefit_rejected",
            actor=actor,
            notify=False,
        )
        await _return_seat(conn, referral, app, actor=actor, settings=settings)
        rejected = BenefitRejected(
            application_number=app.number,
            reason=reason,
            referral_number=referral.number,
            stop_listed_until=app.stop_listed_until,
        )
    await outbox.notify(applicant, rejected, key=f"benefit_rejected:{app.id}", conn=conn)


async def _lapse_offers(settings: Settings, now: datetime) -> int:
    """Open offers whose priority window ended lapse; the addressee keeps its place unless
    `on_offer_timeout = stop_list`."""
    stale = await Offer.filter(
        status=OfferStatus.open, release__priority_end_at__lte=now
    ).values_list("id", "application_id")
    for offer_id, application_id in stale:
        async with in_transaction() as conn:
            app = await _lock_application(conn, application_id)
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
                await _stop_list(
                    conn, app, days=settings.stop_list_days, reason="offer_timeout", actor="system"
                )
    return len(stale)
