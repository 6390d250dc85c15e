"""Priority offers of released seats: who a release is offered to, the "seat offered" push, and
the seat already free when an application is submitted (DOMAIN.md, "Seats").

A release of N seats in a group makes the first N eligible applications of that kindergarten's
queue (birth year + language, queue type matching the group kind) its addressees: only they may
take those seats until `priority_end_at` (`core.seats.releases`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from core import audit
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    Group,
    GroupKind,
    Kindergarten,
    Offer,
    OfferStatus,
    ReferralMode,
    Seat,
    SeatStatus,
)
from core.notifications import outbox
from core.notifications.kinds import Place, SeatOffered
from core.platform import clock
from core.platform.dates import local_today
from core.platform.settings import Settings
from core.queue import order as queue
from core.seats.eligibility import (
    QUEUE_OF_KIND,
    application_problem,
    birth_years,
    children_with_live_referrals,
    eligible_twins,
    kinds_for,
    twin_applications,
)

# The queue is read in pages of `count * PAGE_FACTOR + PAGE_SLACK` applications: most of a page
# is eligible, so one page usually fills the release.
PAGE_FACTOR = 2
PAGE_SLACK = 20


async def addressees_for(
    conn: BaseDBAsyncClient,
    group: Group,
    count: int,
    *,
    settings: Settings,
    exclude: tuple[int, ...] = (),
    twin_of: dict[int, int] | None = None,
    passed_over: dict[int, list[int]] | None = None,
) -> list[Application]:
    """The first `count` eligible applications of the group's kindergarten queue, in
    distribution order (ineligible ones are skipped, keeping the others' order). A mixed-age
    group's queue is its cohorts' queues merged as one cohort (`queue.distribution_order`).

    An application already holding an open offer of this group (an earlier release whose
    window is still running) is not addressed again: one application is never first in line
    for several offers of one group at once; the next one in distribution order gets the next
    offer. (The caller holds the group's row lock, so releases of a group do not overlap.)

    Twins are a batch (DOMAIN.md): the first twin in the queue brings its eligible twins along
    (they are offered together, using as many seats); a batch larger than the seats still
    unassigned is passed over and keeps its place for a later release. `twin_of`, when given,
    is filled with each twin taken along -> the application whose place brought it (the public
    log says so in the twin's `offer.created` leaf). `passed_over`, when given, is filled with
    each application passed over for its batch -> its twins (the release's leaf says so, so an
    outside replay knows why the head of the queue was not addressed)."""
    today = local_today(settings)
    excluded: set[int] = set(exclude) | await holders_of_open_offers(conn, group.id)
    kindergarten = await Kindergarten.get(id=group.kindergarten_id, using_db=conn)
    selected: list[Application] = []
    batch = count * PAGE_FACTOR + PAGE_SLACK
    while True:
        page = await queue.distribution_order(
            city_id=kindergarten.city_id,
            queue_type=QUEUE_OF_KIND[GroupKind(group.kind)],
            birth_year=birth_years(group),  # a mixed-age group: its cohorts merged
            kindergarten_id=group.kindergarten_id,
            language=group.language,
            limit=batch,
            exclude_application_ids=excluded,
            ratio=settings.first_priority_ratio,
            conn=conn,
        )
        live = await children_with_live_referrals(conn, [app.child_id for app in page])
        for app in page:
            if app.id in excluded:  # a twin already taken along with its sibling
                continue
            excluded.add(app.id)
            if application_problem(app, today, settings) is not None or app.child_id in live:
                continue
            # Twins already passed over (or offered) with a sibling are not counted again.
            twins = [t for t in await twin_applications(app, conn=conn) if t.id not in excluded]
            excluded.update(twin.id for twin in twins)
            members = [
                app,
                *await eligible_twins(app, group, today, settings, conn=conn, twins=twins),
            ]
            if len(members) > count - len(selected):
                # twins need more seats than are left: they keep their place
                if passed_over is not None:
                    passed_over[app.id] = [twin.id for twin in twins]
                continue
            selected.extend(members)
            if twin_of is not None:
                twin_of.update((twin.id, app.id) for twin in members[1:])
            if len(selected) >= count:
                return selected
        if len(page) < batch:
            return selected


async def holders_of_open_offers(conn: BaseDBAsyncClient, group_id: int) -> set[int]:
    """Applications holding an open offer of a release of this group whose window still runs."""
    rows = (
        await Offer.filter(
            release__group_id=group_id,
            release__priority_end_at__gt=clock.now(),
            status=OfferStatus.open,
        )
        .using_db(conn)
        .values("application_id")
    )
    return {int(row["application_id"]) for row in rows}


# --- A seat already free when an application is submitted -------------------------------------


async def offer_on_submission(
    conn: BaseDBAsyncClient, app: Application, *, settings: Settings
) -> Seat | None:
    """DOMAIN.md: "If a seat is free in a chosen kindergarten at the moment an application is
    submitted with mode 'immediately', the referral is offered at once".

    Called inside the submission's transaction. Writes one `seat_offered` notification for the
    seat `free_seat_for` finds (its button opens the referral step for that seat's release)
    and returns the seat, or None. The seat is not reserved: general access is first come,
    first served, and `core.referrals.take_seat` decides.
    """
    found = await free_seat_for(conn, app, settings=settings)
    if found is None:
        return None
    await notify_seat_offered(
        conn,
        app,
        found.seat.release_id,
        found.group,
        found.kindergarten,
        key=f"seat_offered:submission:{app.id}",
        general_access=True,
    )
    return found.seat


@dataclass(frozen=True)
class FreeSeat:
    seat: Seat
    group: Group
    kindergarten: Kindergarten


async def free_seat_for(
    conn: BaseDBAsyncClient, app: Application, *, settings: Settings
) -> FreeSeat | None:
    """A general-access seat free now for an application in mode "immediately": at submission
    (`offer_on_submission`) and when the parent switches to "immediately" later
    (`core.applications.referral_mode`).

    Looks, in the parent's order of kindergartens, for a free general-access seat in a group
    matching the application (birth year, group kind for the queue type, the chosen teaching
    language); reserved seats that no open offer holds any more are opened to general access
    first. The first kindergarten with such a seat wins.
    """
    if app.referral_mode != ReferralMode.immediately:
        return None
    if application_problem(app, local_today(settings), settings) is not None:
        return None
    if await children_with_live_referrals(conn, [app.child_id]):
        return None
    kinds = kinds_for(app.queue_type)
    choices = await ApplicationChoice.filter(application_id=app.id).using_db(conn).order_by("rank")
    now = clock.now()
    for choice in choices:
        groups = {
            group.id: group
            for group in await Group.filter(
                Q(birth_year=app.birth_year)
                | Q(birth_year__lte=app.birth_year, last_birth_year__gte=app.birth_year),
                kindergarten_id=choice.kindergarten_id,
                kind__in=kinds,
                language=choice.language,
            ).using_db(conn)
        }
        if not groups:
            continue
        held = (
            await Seat.filter(
                group_id__in=list(groups), status=SeatStatus.free, priority_end_at__gt=now
            )
            .using_db(conn)
            .values("release_id")
        )
        for release_id in sorted({int(row["release_id"]) for row in held}):
            await open_unheld_seats(conn, release_id, actor="system")
        now = clock.now()
        seat = (
            await Seat.filter(
                group_id__in=list(groups), status=SeatStatus.free, priority_end_at__lte=now
            )
            .using_db(conn)
            .order_by("id")
            .first()
        )
        if seat is None:
            continue
        group = groups[seat.group_id]
        kindergarten = await Kindergarten.get(id=group.kindergarten_id, using_db=conn)
        return FreeSeat(seat, group, kindergarten)
    return None


async def notify_seat_offered(
    conn: BaseDBAsyncClient,
    app: Application,
    release_id: int,
    group: Group,
    kindergarten: Kindergarten,
    *,
    key: str,
    deadline: datetime | None = None,
    general_access: bool = False,
) -> None:
    """The "seat offered" push to one application's parent: the place and the group label, the
    release its "Take the seat" button opens, and the offer's terms (a priority `deadline`, or
    `general_access`)."""
    applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
    offered = SeatOffered(
        application_id=app.id,
        application_number=app.number,
        release_id=release_id,
        place=Place.of(kindergarten, group),
        deadline=deadline,
        general_access=general_access,
    )
    await outbox.notify(applicant, offered, key=key, conn=conn)


async def open_unheld_seats(conn: BaseDBAsyncClient, release_id: int, *, actor: str) -> int:
    """Free seats of a release beyond its still-open offers go to general access now."""
    now = clock.now()
    reserved = (
        await Seat.filter(release_id=release_id, status=SeatStatus.free, priority_end_at__gt=now)
        .using_db(conn)
        .order_by("id")
        .select_for_update()
    )
    holders = (
        await Offer.filter(release_id=release_id, status=OfferStatus.open).using_db(conn).count()
    )
    surplus = reserved[holders:]
    for seat in surplus:
        await Seat.filter(id=seat.id).using_db(conn).update(priority_end_at=now)
    for seat in surplus:
        await audit.record(
            "seat.general_access",
            "seat",
            seat.id,
            actor=actor,
            before={"priority_end_at": seat.priority_end_at.isoformat()},
            after={"priority_end_at": now.isoformat()},
            conn=conn,
        )
    return len(surplus)
