"""Seat releases, priority offers and which seats an application may take (DOMAIN.md, "Seats").

A release of N seats in a group makes the first N eligible applications of that kindergarten's
queue (birth year + language, queue type matching the group kind) its addressees: only they may
take those seats until `priority_end_at`; then the seats open to general access for any eligible
application of the city with a matching birth year, queue type and language. When the queue has
fewer eligible applications than seats, the rest open to general access at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit, clock, outbox, queue
from core.calendar import add_working_days
from core.errors import DomainError
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    Group,
    GroupKind,
    Kindergarten,
    Offer,
    OfferStatus,
    QueueType,
    Referral,
    ReferralMode,
    Seat,
    SeatRelease,
    SeatStatus,
)
from core.settings import Settings, WindowUnit

QUEUE_OF_KIND = {
    GroupKind.general: QueueType.general,
    GroupKind.correctional: QueueType.correctional,
    GroupKind.sanatorium: QueueType.correctional,
}


@dataclass(frozen=True)
class SeatOption:
    """Seats one application may take now in one group."""

    kindergarten_id: int
    kindergarten_name_ru: str
    kindergarten_name_kk: str
    group_id: int
    group_name: str
    language: str
    free: int
    via: str  # "offer": this application is an addressee of the release; "general": open access
    priority_end_at: datetime


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
        group = await Group.get_or_none(id=group_id).using_db(conn)
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
    kindergarten = await Kindergarten.get(id=group.kindergarten_id).using_db(conn)
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
        applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
        await outbox.notify(
            applicant,
            "seat_offered",
            {
                "release_id": release.id,
                "application_id": app.id,
                "application_number": app.number,
                "kindergarten_ru": kindergarten.name_ru,
                "kindergarten_kk": kindergarten.name_kk,
                "group": group.name,
                "language": str(group.language),
                "deadline": priority_end.isoformat(),
            },
            key=f"seat_offered:{release.id}:{app.id}",
            conn=conn,
        )
    return release


def priority_end_at(now: datetime, settings: Settings, window: timedelta | None = None) -> datetime:
    """When a release's priority window closes (calendar or working days, per settings)."""
    if window is not None:
        return now + window
    if settings.priority_window_unit == WindowUnit.working:
        return add_working_days(now, settings.priority_window, settings.tz)
    return now + timedelta(days=settings.priority_window)


async def addressees_for(
    conn: BaseDBAsyncClient,
    group: Group,
    count: int,
    *,
    settings: Settings,
    exclude: tuple[int, ...] = (),
) -> list[Application]:
    """The first `count` eligible applications of the group's kindergarten queue, in
    distribution order (ineligible ones are skipped, keeping the others' order)."""
    today = local_today(settings)
    excluded: set[int] = set(exclude)
    kindergarten = await Kindergarten.get(id=group.kindergarten_id).using_db(conn)
    batch = count * 2 + 20
    while True:
        page = await queue.distribution_order(
            city_id=kindergarten.city_id,
            queue_type=QUEUE_OF_KIND[GroupKind(group.kind)],
            birth_year=group.birth_year,
            kindergarten_id=group.kindergarten_id,
            language=group.language,
            limit=batch,
            exclude_application_ids=excluded,
            ratio=settings.first_priority_ratio,
            conn=conn,
        )
        live = await children_with_live_referrals(conn, [app.child_id for app in page])
        eligible = []
        for app in page:
            if app.child_id in live or application_problem(app, today, settings) is not None:
                excluded.add(app.id)
            else:
                eligible.append(app)
        if len(eligible) >= count or len(page) < batch:
            return eligible[:count]


async def available_for(application_id: int, settings: Settings) -> list[SeatOption]:
    """Groups with seats this application may take now: seats of releases that offered it a
    place (during their priority window) and seats in general access that match it."""
    app = await Application.get_or_none(id=application_id)
    if app is None:
        return []
    now = clock.now()
    if application_problem(app, local_today(settings), settings) is not None:
        return []
    if await Referral.filter(
        application__child_id=app.child_id, status__in=LIVE_REFERRAL_STATUSES
    ).exists():
        return []
    kinds = [kind for kind, queue_type in QUEUE_OF_KIND.items() if queue_type == app.queue_type]
    choices = await ApplicationChoice.filter(application_id=app.id).order_by("rank")
    rank_of = {c.kindergarten_id: c.rank for c in choices}
    languages = sorted({str(c.language) for c in choices})

    offered_releases = await Offer.filter(
        application_id=app.id, status=OfferStatus.open
    ).values_list("release_id", flat=True)
    offer_seats = await Seat.filter(
        release_id__in=list(offered_releases) or [0],
        status=SeatStatus.free,
        priority_end_at__gt=now,
        group__birth_year=app.birth_year,
        group__kind__in=kinds,
    )
    general = Seat.filter(
        status=SeatStatus.free,
        priority_end_at__lte=now,
        group__birth_year=app.birth_year,
        group__kind__in=kinds,
        group__kindergarten__city_id=app.city_id,
    )
    if languages:
        general = general.filter(group__language__in=languages)
    general_seats = await general

    counted: dict[tuple[int, str], list[Seat]] = {}
    for via, seats in (("offer", offer_seats), ("general", general_seats)):
        for seat in seats:
            counted.setdefault((seat.group_id, via), []).append(seat)
    if not counted:
        return []
    groups = {
        g.id: g
        for g in await Group.filter(id__in=[gid for gid, _ in counted]).prefetch_related(
            "kindergarten"
        )
    }
    options = []
    for (group_id, via), seats in counted.items():
        group = groups[group_id]
        kindergarten = group.kindergarten
        options.append(
            SeatOption(
                kindergarten_id=kindergarten.id,
                kindergarten_name_ru=kindergarten.name_ru,
                kindergarten_name_kk=kindergarten.name_kk,
                group_id=group.id,
                group_name=group.name,
                language=str(group.language),
                free=len(seats),
                via=via,
                priority_end_at=max(seat.priority_end_at for seat in seats),
            )
        )
    options.sort(
        key=lambda o: (
            o.via != "offer",
            rank_of.get(o.kindergarten_id, 99),
            o.kindergarten_name_ru,
            o.group_name,
        )
    )
    return options


async def decline_offer(application_id: int, release_id: int, *, actor: str) -> None:
    """The addressee does not want these seats; it keeps its place in the queue. Seats no
    other open offer still holds open to general access at once."""
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
        await open_unheld_seats(conn, release_id, actor=actor)
        offer = await Offer.get(application_id=application_id, release_id=release_id).using_db(conn)
        await audit.record(
            "offer.declined",
            "offer",
            offer.id,
            actor=actor,
            before={"status": str(OfferStatus.open)},
            after={"status": str(OfferStatus.declined), "application_id": application_id},
            conn=conn,
        )


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


# --- Eligibility (shared with core.referrals) ------------------------------------------------


def local_today(settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()


def application_problem(app: Application, today: date, settings: Settings) -> str | None:
    """Why this application may not receive a referral today (None: it may), apart from the
    group it wants and a live referral of the child."""
    if app.status == ApplicationStatus.stop_listed:
        return "stop_listed"
    if app.status != ApplicationStatus.active:
        return "not_active"
    if app.referral_mode == ReferralMode.from_date and (
        app.referral_from is None or app.referral_from > today
    ):
        return "mode_from_date"
    age_by_year = today.year - app.birth_year
    if age_by_year < settings.referral_min_age_years:
        return "child_too_young"
    if age_by_year >= settings.max_child_age_years:
        return "child_turns_six"
    return None


def group_problem(app: Application, group: Group) -> str | None:
    """Why this application may not take a seat in this group (None: it may)."""
    if QUEUE_OF_KIND[GroupKind(group.kind)] != app.queue_type:
        return "group_kind_mismatch"
    if group.birth_year != app.birth_year:
        return "birth_year_mismatch"
    return None


async def children_with_live_referrals(
    conn: BaseDBAsyncClient | None, child_ids: list[int]
) -> set[int]:
    if not child_ids:
        return set()
    query = Referral.filter(application__child_id__in=child_ids, status__in=LIVE_REFERRAL_STATUSES)
    if conn is not None:
        query = query.using_db(conn)
    rows: list[Any] = await query.values_list("application__child_id", flat=True)
    return set(rows)
