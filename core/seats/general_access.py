"""General access: seats whose priority window is over (or that nobody was addressed for, or an
addressee declined) are open to any eligible application of the city, and the next ones in the
city's queue hear of them (DOMAIN.md, "Seats")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core import audit
from core.models import (
    Application,
    ApplicationStatus,
    Group,
    GroupKind,
    Kindergarten,
    Notification,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
)
from core.people.applicants import check_owns_application
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.queue import order as queue
from core.seats.eligibility import (
    QUEUE_OF_KIND,
    access_problem,
    application_problem,
    birth_years,
    children_with_live_referrals,
    eligible_batch,
)
from core.seats.offers import PAGE_FACTOR, PAGE_SLACK, notify_seat_offered, open_unheld_seats

GENERAL_KEY = "seat_offered:general:"  # + "<release_id>:<application_id>"
# The release's own addressees told that its priority window ended: + "<release_id>:<app_id>".
WINDOW_END_KEY = "seat_offered:window_end:"
SUBMISSION_KEY = "seat_offered:submission:"  # + "<application_id>" (core.seats.offers)


async def announce_general_access(settings: Settings) -> int:
    """Timer (and release time): for every release whose free seats opened to general access
    since its last announcement (priority window over, seats nobody was addressed for, or an
    addressee declined), notify the next eligible applications of the city in distribution order,
    up to `general_access_notify_multiple` x the seats opened. One transaction per release,
    its row locked FOR UPDATE SKIP LOCKED: several workers announce each opening once.
    Returns the number of notifications written."""
    now = clock.now()
    due = (
        await Seat.filter(status=SeatStatus.free, priority_end_at__lte=now)
        .filter(
            Q(release__general_announced_at__isnull=True)
            | Q(priority_end_at__gt=F("release__general_announced_at"))
        )
        .distinct()
        .order_by("release_id")
        .values_list("release_id", flat=True)
    )
    sent = 0
    for release_id in due:
        async with in_transaction() as conn:
            release = (
                await SeatRelease.filter(id=release_id)
                .select_for_update(skip_locked=True)
                .using_db(conn)
                .first()
            )
            if release is None:
                continue  # another worker is announcing it
            sent += await announce_in(conn, release, settings=settings, actor="system")
    return sent


async def announce_in(
    conn: BaseDBAsyncClient,
    release: SeatRelease,
    *,
    settings: Settings,
    actor: str,
    exclude: tuple[int, ...] = (),
) -> int:
    """The general-access push for one release, inside the caller's transaction (the release row
    is the caller's: locked, or created in this transaction). Seats that opened since
    `general_announced_at` and are still free are announced; the marker moves to now.

    Addressees: the city's active applications of the group's birth year and queue type (any
    chosen language: `eligibility.access_problem`), in distribution order, skipping the
    release's own addressees (who keep their place), applications already told of this release,
    those whose child holds a live referral or who returned a referral of this group, ineligible
    ones (stop list, a "from date" not yet due, age) and twins needing more seats than the group
    has free."""
    now = clock.now()
    opened = Seat.filter(release_id=release.id, status=SeatStatus.free, priority_end_at__lte=now)
    if release.general_announced_at is not None:
        opened = opened.filter(priority_end_at__gt=release.general_announced_at)
    new_seats = await opened.using_db(conn).count()
    if not new_seats:
        return 0
    previous = release.general_announced_at
    release.general_announced_at = now
    await release.save(using_db=conn, update_fields=["general_announced_at"])

    group = await Group.get(id=release.group_id, using_db=conn)
    kindergarten = await Kindergarten.get(id=group.kindergarten_id, using_db=conn)
    chosen = await _general_access_recipients(
        conn,
        release,
        group,
        kindergarten,
        settings.general_access_notify_multiple * new_seats,
        now=now,
        settings=settings,
        exclude=exclude,
    )
    # The priority window is over: its addressees who did nothing hear it too (their push said
    # "only you until ..."); the seats are now everybody's, theirs to take first come.
    waiting = await _waiting_addressees(conn, release) if release.priority_end_at <= now else []
    for app, prefix in [
        *((a, GENERAL_KEY) for a in chosen),
        *((a, WINDOW_END_KEY) for a in waiting),
    ]:
        await notify_seat_offered(
            conn,
            app,
            release.id,
            group,
            kindergarten,
            key=f"{prefix}{release.id}:{app.id}",  # once each (outbox.notify: idempotent)
            general_access=True,
        )
    await audit.record(
        "seats.general_access_announced",
        "seat_release",
        release.id,
        actor=actor,
        before={"general_announced_at": previous.isoformat() if previous else None},
        after={
            "general_announced_at": now.isoformat(),
            "seats": new_seats,
            "notified": [app.id for app in chosen],
            "addressees_told": [app.id for app in waiting],
        },
        conn=conn,
    )
    return len(chosen)


async def decline_offer(
    application_id: int,
    release_id: int,
    *,
    actor: str,
    settings: Settings,
    applicant_id: int | None = None,
) -> None:
    """The addressee does not want these seats; it keeps its place in the queue. Seats no
    other open offer still holds open to general access at once, and the next ones in the
    queue hear of them at once (not a minute later from the timer). `applicant_id`: the
    parent's own application only."""
    await check_owns_application(applicant_id, application_id)
    async with in_transaction() as conn:
        # Lock order as in core.referrals: application, then offers and seats, then the audit.
        await (
            Application.filter(id=application_id)
            .select_for_update(no_key=True)
            .using_db(conn)
            .first()
        )
        declined = (
            await Offer.filter(
                application_id=application_id, release_id=release_id, status=OfferStatus.open
            )
            .using_db(conn)
            .update(status=OfferStatus.declined)
        )
        if not declined:
            raise DomainError("offer_not_open")
        opened = await open_unheld_seats(conn, release_id, actor=actor)
        offer = await Offer.get(application_id=application_id, release_id=release_id, using_db=conn)
        await audit.record(
            "offer.declined",
            "offer",
            offer.id,
            actor=actor,
            before={"status": str(OfferStatus.open)},
            after={"status": str(OfferStatus.declined), "application_id": application_id},
            conn=conn,
        )
        if opened:
            release = (
                await SeatRelease.filter(id=release_id)
                .select_for_update(no_key=True)
                .using_db(conn)
                .get()
            )
            await announce_in(conn, release, settings=settings, actor=actor)


@dataclass(frozen=True)
class SeatWait:
    """Why an application is offered no seat now, for an honest "no seats" screen: `problem`
    is `eligibility.application_problem`'s code, or "live_referral", or None when the
    application may take a seat now and none is free (then it hears of the next releases:
    their priority offers, or general access reaching the first in line). `from_day`: the first
    day it may get a referral, when that is known (its "from a date" referral date, or
    1 January of the year the child is old enough)."""

    problem: str | None
    from_day: date | None = None


async def seat_wait(
    application_id: int, settings: Settings, *, applicant_id: int | None = None
) -> SeatWait:
    """Why this application (the parent's own) is offered no seat now (see `SeatWait`)."""
    await check_owns_application(applicant_id, application_id)
    app = await Application.get(id=application_id)
    problem = application_problem(app, local_today(settings), settings)
    if problem == "mode_from_date":
        return SeatWait(problem, app.referral_from)
    if problem == "child_too_young":
        return SeatWait(problem, date(app.birth_year + settings.referral_min_age_years, 1, 1))
    if problem is None and await children_with_live_referrals(None, [app.child_id]):
        return SeatWait("live_referral")
    return SeatWait(problem)


# --- Who hears of the opened seats ------------------------------------------------------------


async def _general_access_recipients(
    conn: BaseDBAsyncClient,
    release: SeatRelease,
    group: Group,
    kindergarten: Kindergarten,
    limit: int,
    *,
    now: datetime,
    settings: Settings,
    exclude: tuple[int, ...],
) -> list[Application]:
    """The next `limit` applications of the city's queue for the group (distribution order)
    that may take its general-access seats now and have not heard of this release."""
    today = local_today(settings)
    excluded = set(exclude) | await _told_of_release(conn, release)
    returned_by = await _returned_a_referral_of(conn, group)
    free_in_group = (
        await Seat.filter(group_id=group.id, status=SeatStatus.free, priority_end_at__lte=now)
        .using_db(conn)
        .count()
    )
    selected: list[Application] = []
    batch = limit * PAGE_FACTOR + PAGE_SLACK
    while True:
        page = await queue.distribution_order(
            city_id=kindergarten.city_id,
            queue_type=QUEUE_OF_KIND[GroupKind(group.kind)],
            birth_year=birth_years(group),
            limit=batch,
            exclude_application_ids=excluded,
            ratio=settings.first_priority_ratio,
            conn=conn,
        )
        excluded.update(app.id for app in page)
        live = await children_with_live_referrals(conn, [app.child_id for app in page])
        for app in page:
            if app.id in returned_by:
                continue
            if access_problem(app.city_id, kindergarten.city_id) is not None:
                continue
            members = await eligible_batch(
                app, group, today, settings, conn=conn, live_children=live
            )
            if members is None or len(members) > free_in_group:
                continue  # twins are referred together: not enough seats for the batch
            if await _offered_on_submission(conn, app, release):
                continue
            selected.append(app)
            if len(selected) >= limit:
                return selected
        if len(page) < batch:
            return selected


async def _waiting_addressees(conn: BaseDBAsyncClient, release: SeatRelease) -> list[Application]:
    """The release's addressees whose offer is still open (neither taken nor declined), still
    in the queue, whose child holds no live referral."""
    offers = (
        await Offer.filter(release_id=release.id, status=OfferStatus.open)
        .using_db(conn)
        .values("application_id")
    )
    apps = await Application.filter(
        id__in=[int(row["application_id"]) for row in offers], status=ApplicationStatus.active
    ).using_db(conn)
    live = await children_with_live_referrals(conn, [app.child_id for app in apps])
    return [app for app in apps if app.child_id not in live]


async def _told_of_release(conn: BaseDBAsyncClient, release: SeatRelease) -> set[int]:
    """The release's own addressees (who keep their place) and the applications already told
    of its general access."""
    offers = await Offer.filter(release_id=release.id).using_db(conn).values("application_id")
    told = {int(row["application_id"]) for row in offers}
    prefix = f"{GENERAL_KEY}{release.id}:"
    for row in (
        await Notification.filter(idempotency_key__startswith=prefix)
        .using_db(conn)
        .values("idempotency_key")
    ):
        told.add(int(row["idempotency_key"][len(prefix) :]))
    return told


async def _returned_a_referral_of(conn: BaseDBAsyncClient, group: Group) -> set[int]:
    """Applications that declined (or were revoked) a referral of this group."""
    rows = (
        await Referral.filter(
            group_id=group.id, status__in=(ReferralStatus.declined, ReferralStatus.revoked)
        )
        .using_db(conn)
        .values("application_id")
    )
    return {int(row["application_id"]) for row in rows}


async def _offered_on_submission(
    conn: BaseDBAsyncClient, app: Application, release: SeatRelease
) -> bool:
    """Whether the application was offered this release's seat when it was submitted."""
    told = (
        await Notification.filter(idempotency_key=f"{SUBMISSION_KEY}{app.id}")
        .using_db(conn)
        .values("params")
    )
    return any(row["params"].get("release_id") == release.id for row in told)
