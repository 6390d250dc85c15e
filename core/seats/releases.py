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
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core import audit
from core.calendar.working_days import add_working_days
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    Child,
    Group,
    GroupKind,
    Kindergarten,
    Notification,
    Offer,
    OfferStatus,
    QueueType,
    Referral,
    ReferralMode,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
)
from core.notifications import outbox
from core.notifications.kinds import Place, SeatOffered
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import Settings, WindowUnit
from core.queue import order as queue

# Twins: children of one parent born at most this many days apart (DOMAIN.md, "within a month").
TWIN_DAYS = 31

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
    group_birth_year: int = 0
    group_kind: str = "general"


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
        await _notify_seat_offered(
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


async def addressees_for(
    conn: BaseDBAsyncClient,
    group: Group,
    count: int,
    *,
    settings: Settings,
    exclude: tuple[int, ...] = (),
) -> list[Application]:
    """The first `count` eligible applications of the group's kindergarten queue, in
    distribution order (ineligible ones are skipped, keeping the others' order).

    Twins are a batch (DOMAIN.md): the first twin in the queue brings its eligible twins along
    (they are offered together, using as many seats); a batch larger than the seats still
    unassigned is passed over and keeps its place for a later release."""
    today = local_today(settings)
    excluded: set[int] = set(exclude)
    kindergarten = await Kindergarten.get(id=group.kindergarten_id).using_db(conn)
    selected: list[Application] = []
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
        for app in page:
            if app.id in excluded:  # a twin already taken along with its sibling
                continue
            excluded.add(app.id)
            if app.child_id in live or application_problem(app, today, settings) is not None:
                continue
            members = [app]
            for twin in await twin_applications(app, conn=conn):
                if twin.id in excluded:
                    continue
                excluded.add(twin.id)
                if (
                    application_problem(twin, today, settings) is None
                    and group_problem(twin, group) is None
                    and not await children_with_live_referrals(conn, [twin.child_id])
                ):
                    members.append(twin)
            if len(members) > count - len(selected):
                continue  # twins need more seats than are left: they keep their place
            selected.extend(members)
            if len(selected) >= count:
                return selected
        if len(page) < batch:
            return selected


async def twin_applications(
    app: Application, *, conn: BaseDBAsyncClient | None = None
) -> list[Application]:
    """Active applications of the same queue type for the child's twins: other children of the
    same applicant (or legal representative) born within `TWIN_DAYS` of this child."""
    query = Child.filter(id=app.child_id)
    if conn is not None:
        query = query.using_db(conn)
    child = await query.prefetch_related("person").first()
    if child is None:
        return []
    born = child.person.birth_date
    siblings = Application.filter(
        Q(applicant_id=app.applicant_id) | Q(child__representative_id=app.applicant_id),
        queue_type=app.queue_type,
        status=ApplicationStatus.active,
        child__person__birth_date__gte=born - timedelta(days=TWIN_DAYS),
        child__person__birth_date__lte=born + timedelta(days=TWIN_DAYS),
    ).exclude(child_id=app.child_id)
    if conn is not None:
        siblings = siblings.using_db(conn)
    return list(await siblings.order_by("id"))


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
    seats_needed = await _twin_seats_needed(app, counted, now, settings)
    options = []
    for (group_id, via), seats in counted.items():
        group = groups[group_id]
        if seats_needed.get(group_id, 0) > 0:
            continue  # twins are referred together: this group cannot seat them all
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
                group_birth_year=group.birth_year,
                group_kind=str(group.kind),
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


async def _twin_seats_needed(
    app: Application,
    counted: dict[tuple[int, str], list[Seat]],
    now: datetime,
    settings: Settings,
) -> dict[int, int]:
    """For each group in `counted`: how many more seats the application's eligible twins
    would need there (seats visible to the application or held by a twin's own offers)."""
    today = local_today(settings)
    twins = [
        twin
        for twin in await twin_applications(app)
        if application_problem(twin, today, settings) is None
        and not await children_with_live_referrals(None, [twin.child_id])
    ]
    if not twins:
        return {}
    visible: dict[int, set[int]] = {}
    for (group_id, _via), seats in counted.items():
        visible.setdefault(group_id, set()).update(seat.id for seat in seats)
    twin_releases = await Offer.filter(
        application_id__in=[twin.id for twin in twins], status=OfferStatus.open
    ).values_list("release_id", flat=True)
    if twin_releases:
        for seat in await Seat.filter(
            release_id__in=list(twin_releases),
            group_id__in=list(visible),
            status=SeatStatus.free,
            priority_end_at__gt=now,
        ):
            visible[seat.group_id].add(seat.id)
    return {group_id: max(0, 1 + len(twins) - len(ids)) for group_id, ids in visible.items()}


async def decline_offer(
    application_id: int, release_id: int, *, actor: str, settings: Settings | None = None
) -> None:
    """The addressee does not want these seats; it keeps its place in the queue. Seats no
    other open offer still holds open to general access at once, and the next ones in the
    queue hear of them at once (not a minute later from the timer)."""
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
        if opened:
            release = (
                await SeatRelease.filter(id=release_id)
                .select_for_update(no_key=True)
                .using_db(conn)
                .get()
            )
            if settings is None:
                from core.platform.settings import get_settings

                settings = get_settings()
            await announce_in(conn, release, settings=settings, actor=actor)


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


# --- General access: the next ones in the city's queue hear of the seats ------------------------


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

    Addressees: the city's active applications of the group's birth year and queue type whose
    chosen languages include the group's, in distribution order, skipping the release's own
    addressees (who keep their place), applications already told of this release, those whose
    child holds a live referral or who returned a referral of this group, ineligible ones (stop
    list, a "from date" not yet due, age) and twins needing more seats than the group has free."""
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

    group = await Group.get(id=release.group_id).using_db(conn)
    kindergarten = await Kindergarten.get(id=group.kindergarten_id).using_db(conn)
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
    for app in chosen:
        await _notify_seat_offered(
            conn,
            app,
            release.id,
            group,
            kindergarten,
            key=f"{GENERAL_KEY}{release.id}:{app.id}",
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
        },
        conn=conn,
    )
    return len(chosen)


GENERAL_KEY = "seat_offered:general:"  # + "<release_id>:<application_id>"


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
    today = local_today(settings)
    skipped: set[int] = set(exclude)
    skipped.update(
        await Offer.filter(release_id=release.id)
        .using_db(conn)
        .values_list("application_id", flat=True)
    )
    prefix = f"{GENERAL_KEY}{release.id}:"
    for key in (
        await Notification.filter(idempotency_key__startswith=prefix)
        .using_db(conn)
        .values_list("idempotency_key", flat=True)
    ):
        skipped.add(int(key[len(prefix) :]))
    returned_by = set(
        await Referral.filter(
            group_id=group.id, status__in=(ReferralStatus.declined, ReferralStatus.revoked)
        )
        .using_db(conn)
        .values_list("application_id", flat=True)
    )
    free_in_group = (
        await Seat.filter(group_id=group.id, status=SeatStatus.free, priority_end_at__lte=now)
        .using_db(conn)
        .count()
    )
    excluded = set(skipped)
    selected: list[Application] = []
    batch = limit * 2 + 20
    while True:
        page = await queue.distribution_order(
            city_id=kindergarten.city_id,
            queue_type=QUEUE_OF_KIND[GroupKind(group.kind)],
            birth_year=group.birth_year,
            limit=batch,
            exclude_application_ids=excluded,
            ratio=settings.first_priority_ratio,
            conn=conn,
        )
        excluded.update(app.id for app in page)
        ids = [app.id for app in page]
        languages: dict[int, set[str]] = {}
        for application_id, language in (
            await ApplicationChoice.filter(application_id__in=ids or [0])
            .using_db(conn)
            .values_list("application_id", "language")
        ):
            languages.setdefault(application_id, set()).add(str(language))
        live = await children_with_live_referrals(conn, [app.child_id for app in page])
        for app in page:
            chosen = languages.get(app.id)
            if (
                app.id in returned_by
                or (chosen and str(group.language) not in chosen)
                or app.child_id in live
                or application_problem(app, today, settings) is not None
                or group_problem(app, group) is not None
            ):
                continue
            twins = [
                twin
                for twin in await twin_applications(app, conn=conn)
                if application_problem(twin, today, settings) is None
                and group_problem(twin, group) is None
                and not await children_with_live_referrals(conn, [twin.child_id])
            ]
            if 1 + len(twins) > free_in_group:
                continue  # twins are referred together: not enough seats for the batch
            told = (
                await Notification.filter(idempotency_key=f"seat_offered:submission:{app.id}")
                .using_db(conn)
                .values_list("params", flat=True)
            )
            if any(params.get("release_id") == release.id for params in told):
                continue  # offered this release's seat when it was submitted
            selected.append(app)
            if len(selected) >= limit:
                return selected
        if len(page) < batch:
            return selected


# --- A seat already free when an application is submitted -------------------------------------


async def offer_on_submission(
    conn: BaseDBAsyncClient, app: Application, *, settings: Settings
) -> Seat | None:
    """DOMAIN.md: "If a seat is free in a chosen kindergarten at the moment an application is
    submitted with mode 'immediately', the referral is offered at once".

    Called inside the submission's transaction. Looks, in the parent's order of kindergartens,
    for a free general-access seat in a group matching the application (birth year, group kind
    for the queue type, the chosen teaching language); reserved seats that no open offer holds
    any more are opened to general access first. Writes one `seat_offered` notification for the
    first kindergarten with a seat (its button opens the referral step for that seat's release)
    and returns the seat, or None. The seat is not reserved: general access is first come,
    first served, and `core.referrals.take_seat` decides.
    """
    if app.referral_mode != ReferralMode.immediately:
        return None
    if application_problem(app, local_today(settings), settings) is not None:
        return None
    if await children_with_live_referrals(conn, [app.child_id]):
        return None
    kinds = [kind for kind, queue_type in QUEUE_OF_KIND.items() if queue_type == app.queue_type]
    choices = await ApplicationChoice.filter(application_id=app.id).using_db(conn).order_by("rank")
    now = clock.now()
    for choice in choices:
        groups = {
            group.id: group
            for group in await Group.filter(
                kindergarten_id=choice.kindergarten_id,
                birth_year=app.birth_year,
                kind__in=kinds,
                language=choice.language,
            ).using_db(conn)
        }
        if not groups:
            continue
        held_releases = (
            await Seat.filter(
                group_id__in=list(groups), status=SeatStatus.free, priority_end_at__gt=now
            )
            .using_db(conn)
            .values_list("release_id", flat=True)
        )
        for release_id in sorted(set(held_releases)):
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
        kindergarten = await Kindergarten.get(id=group.kindergarten_id).using_db(conn)
        await _notify_seat_offered(
            conn,
            app,
            seat.release_id,
            group,
            kindergarten,
            key=f"seat_offered:submission:{app.id}",
            general_access=True,
        )
        return seat
    return None


async def _notify_seat_offered(
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
    applicant = await Applicant.get(id=app.applicant_id).using_db(conn)
    offered = SeatOffered(
        application_id=app.id,
        application_number=app.number,
        release_id=release_id,
        place=Place.of(kindergarten, group),
        deadline=deadline,
        general_access=general_access,
    )
    await outbox.notify(applicant, offered, key=key, conn=conn)


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
