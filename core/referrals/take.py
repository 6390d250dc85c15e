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

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.applications.submission import next_number, prepare_counter
from core.calendar.working_days import add_working_days
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
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
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import OfferTimeout, Settings, get_settings
from core.queue import order as queue
from core.seats.availability import claim_candidates, precheck
from core.seats.eligibility import (
    application_problem,
    eligible_twins,
    group_problem,
    live_referral_of_child,
    local_today,
    twin_applications,
)
from core.seats.releases import release_in

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

    In a rush most claims find no seat: `precheck` refuses them with the same reason codes
    from a plain read, without a transaction or locks. The others pick seats with `FOR UPDATE
    SKIP LOCKED` (a seat another claim is taking is skipped, not waited for), and the audit
    entries are written at the end of the transaction (`audit.transaction`).
    """
    await precheck(application_id, group_id, settings)
    await prepare_counter("referral", 1)
    async with audit.transaction() as conn:
        found = await Application.get_or_none(id=application_id, using_db=conn)
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
        live = await live_referral_of_child(conn, app.child_id)
        if live is not None:
            raise DomainError("already_has_referral", number=live.number)
        group = await Group.get_or_none(id=group_id, using_db=conn)
        if group is None:
            raise DomainError("group_not_found", group_id=group_id)
        problem = group_problem(app, group)
        if problem is not None:
            raise DomainError("not_eligible", why=problem)
        kindergarten = await Kindergarten.get(id=group.kindergarten_id, using_db=conn)
        now = clock.now()

        # Twins that may be referred now, to this group (the rule of `eligible_twins`, on
        # the rows locked above).
        twins = [locked[twin_id] for twin_id in twin_ids]
        batch = [app, *await eligible_twins(app, group, today, settings, conn=conn, twins=twins)]

        taken: list[tuple[Application, Seat]] = []
        for member in batch:
            try:
                # Locked by this transaction; seats other claims hold are skipped. A seat
                # taken for a twin above is no longer free, so it is not picked again.
                candidates = await claim_candidates(conn, member, group, kindergarten, now)
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
    applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
    await outbox.notify(
        applicant,
        "referral_issued",
        {
            "referral_id": referral.id,
            "number": number,
            "application_number": app.number,
            "kindergarten_ru": kindergarten.name_ru,
            "kindergarten_kk": kindergarten.name_kk,
            "group": group.name,
            "language": str(group.language),
            "group_birth_year": group.birth_year,  # for the group label (age group, year)
            "group_kind": str(group.kind),
            "status": str(status),
            "expires_at": expires_at.isoformat(),
            "documents": str(app.queue_type),
        },
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
            params: dict[str, object] = {"application_number": app.number}
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
                params |= {"number": referral.number, "expires_at": referral.expires_at.isoformat()}
            await outbox.notify(
                applicant, "benefit_confirmed", params, key=f"benefit_confirmed:{app.id}", conn=conn
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
            "referral_expiring",
            {
                "referral_id": referral.id,
                "number": referral.number,
                "kindergarten_ru": referral.kindergarten.name_ru,
                "kindergarten_kk": referral.kindergarten.name_kk,
                "group": referral.group.name,
                "language": str(referral.group.language),
                "group_birth_year": referral.group.birth_year,
                "group_kind": str(referral.group.kind),
                "expires_at": referral.expires_at.isoformat(),
            },
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
                    "referral_expired",
                    {
                        "referral_id": referral.id,
                        "number": referral.number,
                        "application_number": app.number,
                        "stop_listed_until": app.stop_listed_until.isoformat()
                        if app.stop_listed_until
                        else None,
                    },
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
                "restored",
                {"application_id": app.id, "application_number": app.number},
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


async def _next_value(conn: BaseDBAsyncClient, name: str) -> int:
    """Increment a named counter atomically (never reused, even after a rollback elsewhere).

    PostgreSQL: a sequence (no row lock held to the commit, so concurrent winners of a rush
    do not queue on it; a rolled-back claim leaves a gap in the serials)."""
    if conn.capabilities.dialect == "postgres":
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
            "stop_listed",
            {
                "application_id": app.id,
                "application_number": app.number,
                "reason": reason,
                "until": until.isoformat() if until else None,
            },
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
    params: dict[str, object] = {"application_number": app.number, "reason": reason}
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
        params |= {
            "number": referral.number,
            "stop_listed_until": app.stop_listed_until.isoformat()
            if app.stop_listed_until
            else None,
        }
    await outbox.notify(
        applicant, "benefit_rejected", params, key=f"benefit_rejected:{app.id}", conn=conn
    )


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
