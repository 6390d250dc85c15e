"""Seat releases: staff release N seats of a group, offered first to the queue's first eligible
applications during a priority window (DOMAIN.md, "Seats").

A release of N seats in a group makes the first N eligible applications of that kindergarten's
queue (birth year + language, queue type matching the group kind) its addressees: only they may
take those seats until `priority_end_at`; then the seats open to general access for any eligible
application of the city with a matching birth year, queue type and language. When the queue has
fewer eligible applications than seats, the rest open to general access at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.calendar.working_days import add_working_days
from core.models import Group, Kindergarten, Offer, Seat, SeatRelease
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import Settings, WindowUnit
from core.seats.general_access import announce_in
from core.seats.offers import addressees_for, notify_seat_offered


async def release_seats(
    group_id: int,
    count: int,
    *,
    actor: str,
    settings: Settings,
    window: timedelta | None = None,
) -> SeatRelease:
    """Release `count` free seats in a group, offer them to the queue's first eligible
    applications and notify those parents; one transaction."""
    if count < 1:
        raise DomainError("invalid_seat_count", count=count)
    async with in_transaction() as conn:
        group = await Group.get_or_none(id=group_id, using_db=conn)
        if group is None:
            raise DomainError("group_not_found", group_id=group_id)
        return await release_in(conn, group, count, actor=actor, settings=settings, window=window)


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
    kindergarten = await Kindergarten.get(id=group.kindergarten_id, using_db=conn)
    now = clock.now()
    priority_end = priority_end_at(now, settings, window)
    addressees = await addressees_for(
        conn, group, count, settings=settings, exclude=exclude_application_ids
    )
    release = await SeatRelease.create(
        group_id=group.id,
        kindergarten_id=kindergarten.id,
        seats=count,
        priority_end_at=priority_end if addressees else now,
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
            "language": str(group.language),
            "kind": str(group.kind),
            "seats": count,
            "seat_ids": seat_ids,
            "priority_end_at": priority_end.isoformat(),
            "addressees": [app.id for app in addressees],
            "general_access_at_once": count - len(addressees),
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
            after={"release_id": release.id, "application_id": app.id, "number": app.number},
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
