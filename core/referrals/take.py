"""Referrals: taking a seat (what happens afterwards: `core.referrals.lifecycle`).

Taking a seat is one transaction: the application row is locked (so one child's claims queue
up), the child row too (a child's general and correctional applications share one limit), and
the seat is taken by a conditional update `status = free -> taken`, which PostgreSQL re-checks
after any concurrent writer commits, so a seat is never given twice. The loser of a race gets a
`DomainError` with a reason code.

Lock order everywhere in this module: application, then child, then referral, then seat.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.connection import get_connection

from core import audit
from core.applications.lifecycle import lock_application
from core.calendar.working_days import add_working_days
from core.models import (
    Applicant,
    Application,
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
from core.notifications.kinds import Place, ReferralIssued
from core.people.applicants import check_owns_application
from core.platform import clock
from core.platform.counters import next_number, prepare_counter
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.referrals.records import snapshot
from core.seats.availability import claim_candidates, precheck
from core.seats.eligibility import (
    application_problem,
    eligible_twins,
    group_problem,
    live_referral_of_child,
    twin_applications,
)

NUMBER_PREFIX = "NP"

# Claims decided at once in one process (event loop): see `take_seat` and `_admission`.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def take_seat(
    application_id: int,
    group_id: int,
    *,
    actor: str,
    settings: Settings,
    applicant_id: int | None = None,
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

    A process decides at most as many claims at once as its pool has connections
    (`_admission`): a rush queues before the precheck, so that each claim reads it just before
    its own transaction, not long before while others take the last seats (a claim let
    through by a stale precheck costs a dozen statements to refuse).
    """
    await check_owns_application(applicant_id, application_id)  # the parent's: their own only
    async with _admission():
        await precheck(application_id, group_id, settings)
        await prepare_counter("referral", 1)  # (a query until this process has seen it)
        return await _take(application_id, group_id, actor=actor, settings=settings)


@contextlib.asynccontextmanager
async def _admission() -> AsyncIterator[None]:
    """Wait for a turn among the claims this process decides at once: as many as its pool
    has connections (SQLite: one), so a claim holding a turn seldom waits for a connection.
    Inside a caller's transaction there is no wait (its connection is the caller's)."""
    conn = get_connection("default")
    if isinstance(conn, TransactionalDBClient):
        yield
        return
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(max(1, int(getattr(conn, "pool_maxsize", 1))))
    async with gate:
        yield


async def _take(application_id: int, group_id: int, *, actor: str, settings: Settings) -> Referral:
    async with audit.transaction() as conn:
        found = await Application.get_or_none(id=application_id, using_db=conn)
        if found is None:
            raise DomainError("application_not_found")
        twin_ids = [twin.id for twin in await twin_applications(found, conn=conn)]
        # Lock order: applications by id, then children by id (a twin's claim locks the same).
        locked = {i: await lock_application(conn, i) for i in sorted({application_id, *twin_ids})}
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
        after=snapshot(referral)
        | {
            "application_number": app.number,
            # public facts of the log's leaf (core.ledger)
            "kindergarten_id": kindergarten.id,
            "release_id": seat.release_id,
        },
        conn=conn,
    )
    applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
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
            benefit=app.benefit_category,
        ),
        key=f"referral_issued:{referral.id}",
        conn=conn,
    )
    return referral


async def _next_value(conn: BaseDBAsyncClient, name: str) -> int:
    """Increment a named counter atomically (never reused, even after a rollback elsewhere).

    PostgreSQL: a sequence (no row lock held to the commit, so concurrent winners of a rush
    do not queue on it; a rolled-back claim leaves a gap in the serials)."""
    return await next_number(name, 1, conn=conn)
