"""Referrals: taking a seat (what happens afterwards: `core.referrals.lifecycle`).

Taking a seat is one transaction: the application row is locked (so one child's claims queue
up), the child row too (a child's general and correctional applications share one limit), and
the seat is taken by a conditional update `status = free -> taken`, which PostgreSQL re-checks
after any concurrent writer commits, so a seat is never given twice. The loser of a race gets a
`DomainError` with a reason code.

Lock order everywhere in this module: application, then child, then referral, then seat.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from core import audit
from core.applications.lifecycle import lock_application as _lock_application
from core.calendar.working_days import add_working_days
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationChoice,
    BenefitStatus,
    Child,
    Group,
    Kindergarten,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    Seat,
    SeatStatus,
    Stream,
)
from core.notifications import outbox
from core.notifications.kinds import (
    Place,
    ReferralIssued,
)
from core.platform import clock
from core.platform.counters import next_number, prepare_counter
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.referrals.records import snapshot as _snapshot  # (and _lock_application: kept names

# so the seat-taking functions read as before; the eligibility rewrite calls the public ones)
from core.seats.releases import (
    application_problem,
    group_problem,
    local_today,
    twin_applications,
)

NUMBER_PREFIX = "NP"


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


# --- Helpers ---------------------------------------------------------------------------------


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
    return await next_number(name, 1, conn=conn)
