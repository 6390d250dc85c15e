"""Seat releases: staff release N seats of a group, offered first to the queue's first eligible
applications during a priority window (DOMAIN.md, "Seats").

A release of N seats in a group makes the first N eligible applications of that kindergarten's
queue (birth year + language, queue type matching the group kind) its addressees: only they may
take those seats until `priority_end_at`; then the seats open to general access for any eligible
application of the city with a matching birth year and queue type. When the queue has fewer
eligible applications than seats, the rest open to general access at once.

The `seats.released` audit entry is the public seat-release protocol's source: its
`priority_end_at` is the release's real window end, equal to its `released_at` when nobody was
addressed (the seats opened to everyone at once), so "no priority window" is
`priority_end_at <= released_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from core import audit
from core.calendar.working_days import add_working_days
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Group,
    Kindergarten,
    Notification,
    Offer,
    Referral,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
)
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings, WindowUnit
from core.seats.eligibility import birth_years
from core.seats.general_access import GENERAL_KEY, announce_in
from core.seats.offers import addressees_for, notify_seat_offered

# The bounds of a release, whoever asks (staff dialog, the kindergarten's system, a forged button):
# as the gov callback's contract (`webhooks/models.py`: 1..1000 seats), and a window of at most a
# month (DOMAIN.md's default is one day; staff choose 0, 1 or 3).
MAX_SEATS = 1000
MAX_WINDOW = timedelta(days=30)


def check_release(count: int, window: timedelta | None) -> None:
    """Refuse a release outside the bounds before anything is written."""
    if not 1 <= count <= MAX_SEATS:
        raise DomainError(Reason.invalid_seat_count, count=count, max=MAX_SEATS)
    if window is not None and not timedelta(0) <= window <= MAX_WINDOW:
        raise DomainError(Reason.invalid_priority_window, max=MAX_WINDOW.days)


@dataclass(frozen=True)
class GroupSeats:
    """How full a group is: its capacity, the children enrolled, the referrals still waiting for
    enrolment (each holds a seat), and the released seats nobody has taken yet. Free seats never
    exceed capacity minus those: `releasable` is how many more may be released now."""

    capacity: int
    enrolled: int
    referred: int
    free: int

    @property
    def releasable(self) -> int:
        return max(0, min(MAX_SEATS, self.capacity - self.enrolled - self.referred - self.free))


@dataclass(frozen=True)
class ReleasePreview:
    """What a release would do now, before anything is written: `addressees` applications
    (of `parents` parents) receive the priority offer; the other seats open to everyone at once.
    `nobody_because`: why no application of the queue can receive the offer now ("too_young",
    "too_old", or "nobody_eligible": stop-list, a later "from a date", an offer already held in
    this group, an empty queue), None when somebody can or no window was asked for."""

    seats: GroupSeats
    count: int
    windowed: bool
    addressees: int
    parents: int
    priority_end_at: datetime
    nobody_because: str | None

    @property
    def open_at_once(self) -> int:
        return self.count - self.addressees


async def group_seats(group: Group, conn: BaseDBAsyncClient | None = None) -> GroupSeats:
    """The group's capacity and what already fills it (see `GroupSeats`)."""
    referrals = Referral.filter(group_id=group.id).using_db(conn)
    return GroupSeats(
        capacity=group.capacity,
        enrolled=await referrals.filter(status=ReferralStatus.enrolled).count(),
        referred=await Referral.filter(group_id=group.id, status__in=LIVE_REFERRAL_STATUSES)
        .using_db(conn)
        .count(),
        free=await Seat.filter(group_id=group.id, status=SeatStatus.free).using_db(conn).count(),
    )


def check_capacity(seats: GroupSeats, count: int, group_id: int) -> None:
    """Refuse `over_capacity` (saying how many may be released) when `count` more free seats
    would exceed the group's capacity minus its enrolled children and live referrals."""
    if count > seats.releasable:
        raise DomainError(
            Reason.over_capacity,
            group_id=group_id,
            count=count,
            releasable=seats.releasable,
            capacity=seats.capacity,
        )


async def preview_release(
    group_id: int, count: int, *, settings: Settings, window: timedelta | None = None
) -> ReleasePreview:
    """Read-only: what `release_seats(group_id, count, window=window)` would do now, by the same
    addressee selection (`core.seats.offers.addressees_for`: age, stop-list, "from a date",
    live referrals, offers already held in this group). Refuses as `release_seats` would."""
    check_release(count, window)
    conn = get_connection("default")
    group = await Group.get_or_none(id=group_id, using_db=conn)
    if group is None:
        raise DomainError(Reason.group_not_found, group_id=group_id)
    seats = await group_seats(group, conn)
    check_capacity(seats, count, group.id)
    now = clock.now()
    priority_end = priority_end_at(now, settings, window)
    windowed = priority_end > now
    chosen = await addressees_for(conn, group, count, settings=settings) if windowed else []
    nobody: str | None = None
    if windowed and not chosen:
        age = local_today(settings).year - max(birth_years(group))
        if age < settings.referral_min_age_years:
            nobody = "too_young"
        elif local_today(settings).year - group.birth_year >= settings.max_child_age_years:
            nobody = "too_old"
        else:
            nobody = "nobody_eligible"
    return ReleasePreview(
        seats=seats,
        count=count,
        windowed=windowed,
        addressees=len(chosen),
        parents=len({app.applicant_id for app in chosen}),
        priority_end_at=priority_end if chosen else now,
        nobody_because=nobody,
    )


async def release_seats(
    group_id: int,
    count: int,
    *,
    actor: str,
    settings: Settings,
    window: timedelta | None = None,
) -> SeatRelease:
    """Release `count` free seats in a group, offer them to the queue's first eligible
    applications and notify those parents; one transaction. `count` is 1..`MAX_SEATS`, an
    explicit `window` 0..`MAX_WINDOW` (0: open to general access at once); the group's free
    seats never exceed its capacity minus enrolled children and live referrals
    (`over_capacity`)."""
    check_release(count, window)
    async with in_transaction() as conn:
        group = await Group.get_or_none(id=group_id, using_db=conn)
        if group is None:
            raise DomainError(Reason.group_not_found, group_id=group_id)
        # Under the group's row lock, so two staff releasing the same vacancy cannot both pass.
        await Group.filter(id=group.id).select_for_update(no_key=True).using_db(conn).first()
        check_capacity(await group_seats(group, conn), count, group.id)
        return await release_in(conn, group, count, actor=actor, settings=settings, window=window)


async def parents_told(release_id: int) -> int:
    """How many applications a release has told so far: its priority addressees and, when seats
    opened to everyone, the queue's next ones told of general access."""
    offers = await Offer.filter(release_id=release_id).count()
    announced = await Notification.filter(
        idempotency_key__startswith=f"{GENERAL_KEY}{release_id}:"
    ).count()
    return offers + announced


async def release_in(
    conn: BaseDBAsyncClient,
    group: Group,
    count: int,
    *,
    actor: str,
    settings: Settings,
    window: timedelta | None = None,
    exclude_application_ids: tuple[int, ...] = (),
) -> SeatRelease:
    """`release_seats` inside the caller's transaction (a returned seat is re-released too)."""
    check_release(count, window)
    # One release of a group at a time: the next one sees this one's offers (`addressees_for`).
    # NO KEY UPDATE: claims inserting referrals of the group (a key-share lock) are not blocked.
    await Group.filter(id=group.id).select_for_update(no_key=True).using_db(conn).first()
    kindergarten = await Kindergarten.get(id=group.kindergarten_id, using_db=conn)
    now = clock.now()
    priority_end = priority_end_at(now, settings, window)
    twin_of: dict[int, int] = {}  # a twin addressee -> the application it came along with
    passed_over: dict[int, list[int]] = {}  # a batch too big for the seats: head -> its twins
    addressees = (
        await addressees_for(
            conn,
            group,
            count,
            settings=settings,
            exclude=exclude_application_ids,
            twin_of=twin_of,
            passed_over=passed_over,
        )
        if priority_end > now
        else []  # no window (0): nobody is first, the seats are everybody's at once
    )
    # The real window end: the release moment when nobody was addressed (DOMAIN.md: "the rest
    # open to general access at once"); the public protocol reads it from the audit entry.
    release_end = priority_end if addressees else now
    release = await SeatRelease.create(
        group_id=group.id,
        kindergarten_id=kindergarten.id,
        seats=count,
        priority_end_at=release_end,
        released_by=actor,
        using_db=conn,
    )
    seat_ids: list[int] = []
    for index in range(count):
        seat = await Seat.create(
            release_id=release.id,
            group_id=group.id,
            priority_end_at=priority_end if index < len(addressees) else now,
            using_db=conn,
        )
        seat_ids.append(seat.id)
    await audit.record(
        "seats.released",
        "seat_release",
        release.id,
        actor=actor,
        after={
            "group_id": group.id,
            "kindergarten_id": kindergarten.id,
            "birth_year": group.birth_year,
            "last_birth_year": group.last_birth_year,
            "language": str(group.language),
            "kind": str(group.kind),
            "seats": count,
            "seat_ids": seat_ids,
            "released_at": now.isoformat(),
            "priority_end_at": release_end.isoformat(),
            "addressees": [app.id for app in addressees],
            "general_access_at_once": count - len(addressees),
            "twins_passed_over": [[head, twins] for head, twins in passed_over.items()],
        },
        conn=conn,
    )
    for app in addressees:
        offer = await Offer.create(release_id=release.id, application_id=app.id, using_db=conn)
        await audit.record(
            "offer.created",
            "offer",
            offer.id,
            actor=actor,
            after={
                "release_id": release.id,
                "application_id": app.id,
                "number": app.number,
                **({"twin_of": twin_of[app.id]} if app.id in twin_of else {}),
            },
            conn=conn,
        )
        await notify_seat_offered(
            conn,
            app,
            release.id,
            group,
            kindergarten,
            key=f"seat_offered:{release.id}:{app.id}",
            deadline=priority_end,
        )
    if count > len(addressees):
        # The rest open to general access at once: the queue's next ones hear of it now.
        await announce_in(
            conn, release, settings=settings, actor=actor, exclude=exclude_application_ids
        )
    return release


def priority_end_at(now: datetime, settings: Settings, window: timedelta | None = None) -> datetime:
    """When a release's priority window closes (calendar or working days, per settings)."""
    if window is not None:
        return now + window
    if settings.priority_window_unit == WindowUnit.working:
        return add_working_days(now, settings.priority_window, settings.tz)
    return now + timedelta(days=settings.priority_window)
