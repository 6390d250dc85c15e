"""Kindergarten directory: search by name, nearest to a point, paged lists, and cards.

Shared by the "Kindergartens" menu and the submission wizard's kindergarten choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from core.models import (
    ApplicationChoice,
    City,
    Group,
    GroupKind,
    Kindergarten,
    Seat,
    SeatStatus,
)
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.views import search as kindergarten_search

PAGE_SIZE = 5
EARTH_RADIUS_M = 6_371_000
# Search radii (metres) tried in turn for `nearest`: a bounded candidate set, then exact haversine.
_RADII = (1_000, 3_000, 10_000, 30_000, 100_000)


@dataclass(frozen=True)
class KindergartenBrief:
    """One row of a list: what a parent needs to choose without opening every card."""

    id: int
    name_ru: str
    name_kk: str
    address_ru: str
    address_kk: str
    distance_m: float | None = None
    languages: tuple[str, ...] = ()  # Language values the kindergarten teaches in
    free_seats: int = 0  # free seats now: of the `cohort` when given, else of every group
    cohort: int | None = None  # the child's birth year the free seats are counted for

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru


@dataclass(frozen=True)
class Page:
    items: list[KindergartenBrief]
    page: int  # 0-based
    pages: int
    total: int


@dataclass(frozen=True)
class FreeSeats:
    group_id: int
    group_name: str
    birth_year: int
    age_from: int
    age_to: int
    language: str
    seats: int
    kind: str = "general"


@dataclass(frozen=True)
class QueueSize:
    birth_year: int
    language: str
    applications: int


@dataclass(frozen=True)
class KindergartenCard:
    id: int
    city_id: int
    name_ru: str
    name_kk: str
    ownership: str  # Ownership value
    kind: str
    languages: list[str]
    address_ru: str
    address_kk: str
    latitude: float
    longitude: float
    hours: str
    monthly_cost: int  # tenge; 0: free of charge
    phone: str
    email: str
    free_seats: list[FreeSeats] = field(default_factory=list)
    queue_size: int = 0  # active applications that chose this kindergarten
    queues: list[QueueSize] = field(default_factory=list)  # by birth year and language

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru

    def address(self, language: str) -> str:
        return self.address_kk if language == "kk" else self.address_ru


async def default_city_id(settings: Settings) -> int | None:
    city = await City.get_or_none(code=settings.default_city)
    if city is None:
        city = await City.all().order_by("id").first()
    return city.id if city else None


async def city_name(city_id: int, language: str) -> str:
    city = await City.get_or_none(id=city_id)
    if city is None:
        return ""
    return city.name_kk if language == "kk" else city.name_ru


async def search(
    city_id: int,
    text: str = "",
    page: int = 0,
    page_size: int = PAGE_SIZE,
    *,
    group_kinds: Sequence[GroupKind] | None = None,
    cohort: int | None = None,
) -> Page:
    """Kindergartens of the city whose Russian or Kazakh name matches `text`
    (`core.platform.search`: any case, ё = е, Kazakh letters as their Russian look-alikes,
    words in any order, a small typo), best match first; all of them in natural order when
    `text` is empty. With `group_kinds`, only those with a group of one of these kinds (the
    correctional queue). Each row has its languages and free seats (of groups of `cohort`,
    the child's birth year, when given; of `group_kinds` when given)."""
    ids = await kindergarten_search.matching_ids(_in_city(city_id, group_kinds), text)
    total = len(ids)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 0), pages - 1)
    rows = await kindergarten_search.load(ids[page * page_size : (page + 1) * page_size])
    items = await _briefs([(row, None) for row in rows], cohort, group_kinds)
    return Page(items=items, page=page, pages=pages, total=total)


async def nearest(
    city_id: int,
    lat: float,
    lon: float,
    limit: int = PAGE_SIZE,
    *,
    group_kinds: Sequence[GroupKind] | None = None,
    cohort: int | None = None,
) -> list[KindergartenBrief]:
    """The `limit` kindergartens nearest to the point, nearest first, with the distance (with
    `group_kinds`: only those with such a group), languages and free seats as in `search`."""
    rows: list[Kindergarten] = []
    for radius in _RADII:
        dlat = math.degrees(radius / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        rows = await _in_city(city_id, group_kinds).filter(
            latitude__gte=lat - dlat,
            latitude__lte=lat + dlat,
            longitude__gte=lon - dlon,
            longitude__lte=lon + dlon,
        )
        # Enough inside the box, and the limit-th is within the radius (so nothing outside
        # the box can be nearer).
        within = sorted(haversine_m(lat, lon, r.latitude, r.longitude) for r in rows)
        if len(within) >= limit and within[limit - 1] <= radius:
            break
    else:
        rows = await _in_city(city_id, group_kinds)
    scored = sorted(
        ((haversine_m(lat, lon, r.latitude, r.longitude), r.id, r) for r in rows),
        key=lambda item: (item[0], item[1]),
    )
    return await _briefs(
        [(row, distance) for distance, _, row in scored[:limit]], cohort, group_kinds
    )


async def free_seats_by_kindergarten(
    ids: Sequence[int],
    cohort: int | None = None,
    group_kinds: Sequence[GroupKind] | None = None,
) -> dict[int, int]:
    """Free seats now per kindergarten (only the listed ones; one query): of groups of the
    birth year `cohort` when given, of groups of `group_kinds` when given."""
    if not ids:
        return {}
    seats = Seat.filter(status=SeatStatus.free, group__kindergarten_id__in=list(ids))
    if cohort is not None:
        seats = seats.filter(group__birth_year=cohort)
    if group_kinds:
        seats = seats.filter(group__kind__in=list(group_kinds))
    counted = (
        await seats.annotate(n=Count("id"))
        .group_by("group__kindergarten_id")
        .values_list("group__kindergarten_id", "n")
    )
    return {int(kindergarten_id): int(n) for kindergarten_id, n in counted}


def _in_city(city_id: int, group_kinds: Sequence[GroupKind] | None) -> QuerySet[Kindergarten]:
    query = Kindergarten.filter(city_id=city_id)
    if group_kinds:
        ids = Group.filter(kindergarten__city_id=city_id, kind__in=list(group_kinds))
        query = query.filter(id__in=Subquery(ids.values("kindergarten_id")))
    return query


async def card(kindergarten_id: int) -> KindergartenCard:
    kindergarten = await Kindergarten.get_or_none(id=kindergarten_id)
    if kindergarten is None:
        raise DomainError(Reason.kindergarten_not_found, kindergarten_id=kindergarten_id)
    free_by_group = dict(
        await Seat.filter(group__kindergarten_id=kindergarten_id, status=SeatStatus.free)
        .annotate(n=Count("id"))
        .group_by("group_id")
        .values_list("group_id", "n")
    )
    groups = await Group.filter(id__in=list(free_by_group)).order_by("birth_year", "language", "id")
    queues = (
        await ApplicationChoice.filter(kindergarten_id=kindergarten_id, active=True)
        .annotate(n=Count("id"))
        .group_by("birth_year", "language")
        .values_list("birth_year", "language", "n")
    )
    queue_list = sorted(
        (
            QueueSize(birth_year=year, language=str(lang), applications=n)
            for year, lang, n in queues
        ),
        key=lambda q: (q.birth_year, q.language),
    )
    return KindergartenCard(
        id=kindergarten.id,
        city_id=kindergarten.city_id,
        name_ru=kindergarten.name_ru,
        name_kk=kindergarten.name_kk,
        ownership=str(kindergarten.ownership.value),
        kind=kindergarten.kind,
        languages=[lang.value for lang in kindergarten.language_list],
        address_ru=kindergarten.address_ru,
        address_kk=kindergarten.address_kk,
        latitude=kindergarten.latitude,
        longitude=kindergarten.longitude,
        hours=kindergarten.hours,
        monthly_cost=kindergarten.monthly_cost,
        phone=kindergarten.phone,
        email=kindergarten.email,
        free_seats=[
            FreeSeats(
                group_id=g.id,
                group_name=g.name,
                birth_year=g.birth_year,
                age_from=g.age_from,
                age_to=g.age_to,
                language=str(g.language.value),
                seats=free_by_group[g.id],
                kind=str(g.kind),
            )
            for g in groups
        ],
        queue_size=sum(q.applications for q in queue_list),
        queues=queue_list,
    )


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


async def _briefs(
    rows: Sequence[tuple[Kindergarten, float | None]],
    cohort: int | None,
    group_kinds: Sequence[GroupKind] | None,
) -> list[KindergartenBrief]:
    free = await free_seats_by_kindergarten([row.id for row, _ in rows], cohort, group_kinds)
    return [
        KindergartenBrief(
            id=row.id,
            name_ru=row.name_ru,
            name_kk=row.name_kk,
            address_ru=row.address_ru,
            address_kk=row.address_kk,
            distance_m=distance,
            languages=tuple(lang.value for lang in row.language_list),
            free_seats=free.get(row.id, 0),
            cohort=cohort,
        )
        for row, distance in rows
    ]
