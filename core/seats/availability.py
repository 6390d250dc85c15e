"""Which seats an application may take now: the parent's list, the claim's fast precheck and the
claim's candidate seats, all on the rules of `core.seats.eligibility`.

The list shows only seats the claim will not then refuse: a seat of a release that offered the
application a place (during its priority window), or a general-access seat that matches it
(birth year, group kind, city; any teaching language), in a group with enough seats for its
eligible twins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core.models import (
    LIVE_REFERRAL_STATUSES,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    Group,
    GroupKind,
    Kindergarten,
    QueueType,
    ReferralMode,
    Seat,
    SeatStatus,
)
from core.people.applicants import check_owns_application
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.seats.eligibility import (
    TWIN_DAYS,
    access_problem,
    application_problem,
    children_with_live_referrals,
    eligible_twins,
    group_problem,
    kinds_for,
    live_referral_of_child,
    open_offer_releases,
    twin_applications,
)

# Kindergartens the application did not choose sort after every chosen one.
UNCHOSEN_RANK = 99

# A general-access seat of the group taken this recently means the parent's list showed it: a
# claim that then finds only others' reserved seats lost the race for it ("no_free_seat", "another
# parent has just taken it"), not a claim on a reserved seat ("priority_window").
JUST_TAKEN = timedelta(minutes=15)


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
    group_last_birth_year: int | None = None  # a mixed-age group's youngest cohort


async def available_for(
    application_id: int, settings: Settings, *, applicant_id: int | None = None
) -> list[SeatOption]:
    """Groups with seats this application may take now: seats of releases that offered it a
    place (during their priority window) and seats in general access that match it.
    `applicant_id`: the parent's own application only."""
    await check_owns_application(applicant_id, application_id)
    app = await Application.get_or_none(id=application_id)
    if app is None:
        return []
    now = clock.now()
    if application_problem(app, local_today(settings), settings) is not None:
        return []
    if await children_with_live_referrals(None, [app.child_id]):
        return []
    kinds = kinds_for(app.queue_type)
    choices = await ApplicationChoice.filter(application_id=app.id).order_by("rank")
    rank_of = {c.kindergarten_id: c.rank for c in choices}

    offered_releases = await open_offer_releases(None, [app.id])
    # The queries narrow by the group rule (birth year, kind) and the city; the rules below decide.
    offer_seats = await Seat.filter(
        takes_birth_year(app.birth_year),
        release_id__in=offered_releases or [0],
        status=SeatStatus.free,
        priority_end_at__gt=now,
        group__kind__in=kinds,
    )
    general_seats = await Seat.filter(
        takes_birth_year(app.birth_year),
        status=SeatStatus.free,
        priority_end_at__lte=now,
        group__kind__in=kinds,
        group__kindergarten__city_id=app.city_id,
    )
    seat_groups = {seat.group_id for seat in [*offer_seats, *general_seats]}
    if not seat_groups:
        return []
    groups = {
        g.id: g
        for g in await Group.filter(id__in=list(seat_groups)).prefetch_related("kindergarten")
    }

    counted: dict[tuple[int, str], list[Seat]] = {}
    for seat in offer_seats:
        if group_problem(app, groups[seat.group_id]) is None:
            counted.setdefault((seat.group_id, "offer"), []).append(seat)
    for seat in general_seats:
        group = groups[seat.group_id]
        if (
            group_problem(app, group) is None
            and access_problem(app.city_id, group.kindergarten.city_id) is None
        ):
            counted.setdefault((seat.group_id, "general"), []).append(seat)
    seats_needed = await _twin_seats_needed(app, counted, groups, now, settings)
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
                group_last_birth_year=group.last_birth_year,
            )
        )
    options.sort(
        key=lambda o: (
            o.via != "offer",
            rank_of.get(o.kindergarten_id, UNCHOSEN_RANK),
            o.kindergarten_name_ru,
            o.group_name,
        )
    )
    return options


def takes_birth_year(birth_year: int) -> Q:
    """Seats of groups that take this birth year (`eligibility.birth_years`), as a filter."""
    return Q(group__birth_year=birth_year) | Q(
        group__birth_year__lte=birth_year, group__last_birth_year__gte=birth_year
    )


# --- The claim's fast precheck ------------------------------------------------------------------


@dataclass(frozen=True)
class PrecheckFacts:
    """Everything a refusal of the claim needs, read without a transaction or locks: the
    application's columns, the group's (None: no such group), the number of a live referral
    of the child, and whether a free seat of the group is in this application's offers'
    window (`offered`), in general access (`general`) or in any priority window (`reserved`),
    and whether a general-access seat of the group was taken within `JUST_TAKEN` (`just_taken`)."""

    status: ApplicationStatus | str
    referral_mode: ReferralMode | str
    referral_from: date | None
    birth_year: int
    queue_type: QueueType | str
    child_id: int
    applicant_id: int
    group_kind: GroupKind | str | None
    group_birth_year: int | None
    live_number: str | None
    offered: bool
    general: bool
    reserved: bool
    just_taken: bool = False
    group_last_birth_year: int | None = None
    has_twins: bool = False  # the child has twins (`twin_applications` is not empty)


@dataclass(frozen=True)
class _GroupRow:
    kind: GroupKind | str
    birth_year: int
    last_birth_year: int | None


async def precheck(application_id: int, group_id: int, settings: Settings) -> None:
    """The refusals `take_seat` would give, from a plain read (no transaction, no locks).

    A refusal here is as of this moment, like one from inside the transaction a moment later;
    anything that might succeed goes on to the locked checks, which decide. On PostgreSQL one
    statement reads everything a refusal needs, so most claims of a rush cost one round trip."""
    facts = await precheck_facts(application_id, group_id, clock.now())
    if facts is None:
        raise DomainError("application_not_found")
    problem = application_problem(facts, local_today(settings), settings)
    if problem is not None:
        raise DomainError("not_eligible", why=problem)
    if facts.live_number is not None:
        raise DomainError("already_has_referral", number=facts.live_number)
    if facts.group_kind is None or facts.group_birth_year is None:
        raise DomainError("group_not_found", group_id=group_id)
    row = _GroupRow(facts.group_kind, facts.group_birth_year, facts.group_last_birth_year)
    problem = group_problem(facts, row)
    if problem is not None:
        raise DomainError("not_eligible", why=problem)
    if facts.offered or facts.general:
        return  # a seat may be free: the transaction decides, and checks the city
    if facts.reserved and not facts.just_taken:
        raise DomainError("not_eligible", why="priority_window")  # only others' offers' seats
    if facts.just_taken or not facts.has_twins:
        # (with twins the refusal is `twins_need_seats`: left to the transaction)
        raise DomainError("no_free_seat", group_id=group_id)


async def precheck_facts(application_id: int, group_id: int, now: datetime) -> PrecheckFacts | None:
    """The precheck's facts (None: no such application): one statement on PostgreSQL, the ORM
    elsewhere; the two agree (tests/test_seats_eligibility.py)."""
    conn = get_connection("default")
    if conn.capabilities.dialect != "postgres":
        return await precheck_facts_orm(application_id, group_id, now)
    rows = await conn.execute_query_dict(
        _PRECHECK_SQL, [application_id, group_id, now, now - JUST_TAKEN]
    )
    if not rows:
        return None
    row = rows[0]
    return PrecheckFacts(
        status=row["status"],
        referral_mode=row["referral_mode"],
        referral_from=row["referral_from"],
        birth_year=row["birth_year"],
        queue_type=row["queue_type"],
        child_id=row["child_id"],
        applicant_id=row["applicant_id"],
        group_kind=row["group_kind"],
        group_birth_year=row["group_birth_year"],
        live_number=row["live_number"],
        offered=bool(row["offered"]),
        general=bool(row["general"]),
        reserved=bool(row["reserved"]),
        just_taken=bool(row["just_taken"]),
        group_last_birth_year=row["group_last_birth_year"],
        has_twins=bool(row["has_twins"]),
    )


async def precheck_facts_orm(
    application_id: int, group_id: int, now: datetime
) -> PrecheckFacts | None:
    """`precheck_facts` through the ORM (any database; the reference for the statement)."""
    app = await Application.get_or_none(id=application_id)
    if app is None:
        return None
    live = await live_referral_of_child(None, app.child_id)
    group = await Group.get_or_none(id=group_id)
    releases = await open_offer_releases(None, [application_id])
    free = Seat.filter(group_id=group_id, status=SeatStatus.free)
    offered = (
        bool(releases)
        and await free.filter(priority_end_at__gt=now, release_id__in=list(releases)).exists()
    )
    return PrecheckFacts(
        status=app.status,
        referral_mode=app.referral_mode,
        referral_from=app.referral_from,
        birth_year=app.birth_year,
        queue_type=app.queue_type,
        child_id=app.child_id,
        applicant_id=app.applicant_id,
        group_kind=group.kind if group is not None else None,
        group_birth_year=group.birth_year if group is not None else None,
        live_number=live.number if live is not None else None,
        offered=offered,
        general=await free.filter(priority_end_at__lte=now).exists(),
        reserved=await free.filter(priority_end_at__gt=now).exists(),
        just_taken=await general_seat_just_taken(None, group_id, now),
        group_last_birth_year=group.last_birth_year if group is not None else None,
        has_twins=bool(await twin_applications(app)),
    )


_LIVE = ", ".join(f"'{status.value}'" for status in LIVE_REFERRAL_STATUSES)
_TWINS = (
    "FROM application t JOIN child tc ON tc.id = t.child_id JOIN person tp ON tp.id = tc.person_id"
)
_TWIN_OF_A = (
    "AND t.queue_type = a.queue_type AND t.status = 'active' AND t.child_id <> a.child_id "
    f"AND tp.birth_date BETWEEN ap.birth_date - {TWIN_DAYS} AND ap.birth_date + {TWIN_DAYS}"
)
_PRECHECK_SQL = (
    "SELECT a.status, a.referral_mode, a.referral_from, a.birth_year, a.queue_type, "
    "a.child_id, a.applicant_id, g.kind AS group_kind, g.birth_year AS group_birth_year, "
    "g.last_birth_year AS group_last_birth_year, "
    "(SELECT r.number FROM referral r JOIN application c ON c.id = r.application_id "
    f"  WHERE c.child_id = a.child_id AND r.status IN ({_LIVE}) LIMIT 1) AS live_number, "
    "EXISTS (SELECT 1 FROM seat s JOIN offer o ON o.release_id = s.release_id "
    "  WHERE s.group_id = $2 AND s.status = 'free' AND s.priority_end_at > $3 "
    "  AND o.application_id = a.id AND o.status = 'open') AS offered, "
    "EXISTS (SELECT 1 FROM seat WHERE group_id = $2 AND status = 'free' "
    "  AND priority_end_at <= $3) AS general, "
    "EXISTS (SELECT 1 FROM seat WHERE group_id = $2 AND status = 'free' "
    "  AND priority_end_at > $3) AS reserved, "
    "EXISTS (SELECT 1 FROM seat WHERE group_id = $2 AND status = 'taken' "
    "  AND taken_at >= $4 AND priority_end_at <= taken_at) AS just_taken, "
    # `eligibility.twin_applications` is not empty: two EXISTS, each on its index (applications
    # by applicant, children by representative)
    f"(EXISTS (SELECT 1 {_TWINS} WHERE t.applicant_id = a.applicant_id {_TWIN_OF_A}) "
    f"OR EXISTS (SELECT 1 {_TWINS} WHERE tc.representative_id = a.applicant_id {_TWIN_OF_A})) "
    "  AS has_twins "
    "FROM application a LEFT JOIN kgroup g ON g.id = $2 "
    "LEFT JOIN child ac ON ac.id = a.child_id LEFT JOIN person ap ON ap.id = ac.person_id "
    "WHERE a.id = $1"
)


# --- The claim's candidate seats ----------------------------------------------------------------


class SeatLock(Enum):
    """How the claim locks the seat it picks (inside its transaction)."""

    SKIP = "skip"  # FOR UPDATE SKIP LOCKED: seats other claims are taking are skipped
    WAIT = "wait"  # FOR UPDATE: wait for them to be decided (a seat taken meanwhile drops out)


async def claim_candidates(
    conn: BaseDBAsyncClient,
    app: Application,
    group: Group,
    kindergarten: Kindergarten,
    now: datetime,
) -> list[Seat]:
    """One free seat of the group this application may take now, locked: a seat of its
    offers first, else a general-access one (after the city rule); [] when other
    claims are taking every free seat; raises `not_eligible` when the only free seats are
    someone else's, or general access is not for this application.

    The seat is locked FOR UPDATE SKIP LOCKED (seats other claims are taking are skipped), so
    a claim never waits on another's seat and locks no more than it takes."""
    releases = await open_offer_releases(conn, [app.id])
    offered_q = Seat.filter(
        group_id=group.id,
        status=SeatStatus.free,
        priority_end_at__gt=now,
        release_id__in=releases or [0],
    )
    general_q = Seat.filter(group_id=group.id, status=SeatStatus.free, priority_end_at__lte=now)
    offered, general = await _pick(conn, offered_q, general_q, bool(releases), SeatLock.SKIP)
    if not offered and not general:
        # Every free seat is being taken by another claim right now. Wait for one of them to
        # be decided instead of refusing at once: the other claim may still fail, and a parent
        # told "taken" must not then see the seat in the fresh list.
        offered, general = await _pick(conn, offered_q, general_q, bool(releases), SeatLock.WAIT)
    if general and not offered:
        problem = access_problem(app.city_id, kindergarten.city_id)
        if problem is not None:
            raise DomainError("not_eligible", why=problem)
    candidates = [*offered, *general]
    if not candidates:
        unlocked = Seat.filter(group_id=group.id, status=SeatStatus.free)
        if await unlocked.filter(priority_end_at__lte=now).using_db(conn).exists():
            return []  # free seats exist, but other claims are taking them: no seat for this one
        reserved = (
            await unlocked.filter(priority_end_at__gt=now)
            .exclude(release_id__in=releases or [0])
            .using_db(conn)
            .exists()
        )
        if reserved:
            if await general_seat_just_taken(conn, group.id, now):
                raise DomainError("no_free_seat", group_id=group.id)  # lost the race for it
            raise DomainError("not_eligible", why="priority_window")
    return candidates


async def general_seat_just_taken(
    conn: BaseDBAsyncClient | None, group_id: int, now: datetime
) -> bool:
    """Whether a seat of the group was taken in general access within `JUST_TAKEN` of `now`."""
    taken = (
        await Seat.filter(
            group_id=group_id, status=SeatStatus.taken, taken_at__gte=now - JUST_TAKEN
        )
        .using_db(conn)
        .values("priority_end_at", "taken_at")
    )
    return any(row["priority_end_at"] <= row["taken_at"] for row in taken)


async def _pick(
    conn: BaseDBAsyncClient,
    offered_q: QuerySet[Seat],
    general_q: QuerySet[Seat],
    has_offers: bool,
    lock: SeatLock,
) -> tuple[list[Seat], list[Seat]]:
    """One seat, locked: an offered seat first, else a general-access one."""
    skip = lock is SeatLock.SKIP
    offered_q = offered_q.select_for_update(skip_locked=skip).using_db(conn)
    offered = list(await offered_q.order_by("id").limit(1)) if has_offers else []
    if offered:
        return offered, []
    general_q = general_q.select_for_update(skip_locked=skip).using_db(conn)
    return offered, list(await general_q.order_by("id").limit(1))


# --- Twins in the seat list ---------------------------------------------------------------------


async def _twin_seats_needed(
    app: Application,
    counted: dict[tuple[int, str], list[Seat]],
    groups: dict[int, Group],
    now: datetime,
    settings: Settings,
) -> dict[int, int]:
    """For each group in `counted`: how many more seats the application's eligible twins
    would need there (seats visible to the application or held by a twin's own offers)."""
    today = local_today(settings)
    visible: dict[int, set[int]] = {}
    for (group_id, _via), seats in counted.items():
        visible.setdefault(group_id, set()).update(seat.id for seat in seats)
    needed: dict[int, int] = {}
    for group_id, ids in visible.items():
        twins = await eligible_twins(app, groups[group_id], today, settings)
        if not twins:
            continue
        twin_releases = await open_offer_releases(None, [twin.id for twin in twins])
        if twin_releases:
            ids = ids | {
                seat.id
                for seat in await Seat.filter(
                    release_id__in=twin_releases,
                    group_id=group_id,
                    status=SeatStatus.free,
                    priority_end_at__gt=now,
                )
            }
        needed[group_id] = max(0, 1 + len(twins) - len(ids))
    return needed
