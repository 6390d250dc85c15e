"""The public protocols (DOMAIN.md, "Public data"), filtered and paged in SQL.

Seat release protocol: every seat release (kindergarten, group, language, seats, priority end),
newest first, with the time of its `seats.released` audit entry; a release staff undid says so
(the time of its `seats.released.undone` entry) and how many of its seats were withdrawn
unused (by that undo, or by undoing the revocation that released it).
Referral protocol: every issued referral with its current status (number, period, masked child
name, kindergarten, group).
A request reads one page of rows (and the audit entries of that page), never the whole history.
Never IIN or phones; child names masked like "А***В Р*** Ж.".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core.models import AuditEntry, Referral, Seat, SeatRelease, SeatStatus
from core.platform.pii import mask_name

MAX_LIMIT = 200
_M = TypeVar("_M", SeatRelease, Referral)


@dataclass(frozen=True)
class SeatFilter:
    day: date | None = None  # local date of the release
    city_id: int | None = None
    kindergarten_id: int | None = None
    kindergarten_name: str | None = None  # case-insensitive substring
    ownership: str | None = None  # state | private
    group_kind: str | None = None  # general | correctional | sanatorium
    language: str | None = None
    age_from: int | None = None
    age_to: int | None = None


@dataclass(frozen=True)
class ReferralFilter:
    day: date | None = None  # local date of issue
    city_id: int | None = None
    kindergarten_id: int | None = None
    kindergarten_name: str | None = None
    language: str | None = None
    age_from: int | None = None
    age_to: int | None = None
    status: str | None = None


@dataclass(frozen=True)
class SeatRow:
    release_id: int
    released_at: datetime
    kindergarten_id: int
    kindergarten_ru: str
    kindergarten_kk: str
    address_ru: str
    address_kk: str
    ownership: str
    group: str
    group_kind: str
    age_from: int
    age_to: int
    language: str
    seats: int
    priority_end_at: datetime
    undone_at: datetime | None = None  # staff undid the release (`seats.released.undone`)
    withdrawn: int = 0  # its seats withdrawn before anyone took them

    @property
    def has_priority_window(self) -> bool:
        """False for a release opened to everyone at once (its priority ends when it starts)."""
        return self.priority_end_at > self.released_at

    def as_json(self) -> dict[str, Any]:
        data = _json(asdict(self))
        if not self.has_priority_window:
            data["priority_end_at"] = None  # no window: not "priority until <release time>"
        return data


@dataclass(frozen=True)
class ReferralRow:
    referral_id: int
    number: str
    issued_at: datetime
    expires_at: datetime | None
    child: str
    kindergarten_id: int
    kindergarten_ru: str
    kindergarten_kk: str
    group: str
    age_from: int
    age_to: int
    language: str
    status: str

    def as_json(self) -> dict[str, Any]:
        return _json(asdict(self))


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[Any]


async def seat_protocol(flt: SeatFilter, tz: ZoneInfo, *, limit: int = 50, offset: int = 0) -> Page:
    query = _place_filter(SeatRelease.all(), flt)
    if flt.ownership:
        query = query.filter(kindergarten__ownership=flt.ownership)
    if flt.group_kind:
        query = query.filter(group__kind=flt.group_kind)
    if flt.day is not None:
        start, end = _day_range(flt.day, tz)
        # One day of release entries: a bounded read of the audit log's (action, at) index.
        query = query.filter(
            id__in=[int(i) for i in await _entity_ids_on("seats.released", start, end)]
        )
    limit, offset = _bounds(limit, offset)
    total = await query.count()
    releases = (
        await query.order_by("-id")
        .offset(offset)
        .limit(limit)
        .select_related("group", "kindergarten")
    )
    entries: dict[tuple[str, str], AuditEntry] = {
        (entry.action, entry.entity_id): entry
        for entry in await AuditEntry.filter(
            action__in=("seats.released", "seats.released.undone"),
            entity="seat_release",
            entity_id__in=[str(release.id) for release in releases],
        )
    }
    withdrawn = await _withdrawn_unused([release.id for release in releases])
    rows: list[SeatRow] = []
    for release in releases:
        group, kg = release.group, release.kindergarten
        entry = entries.get(("seats.released", str(release.id)))
        undone = entries.get(("seats.released.undone", str(release.id)))
        rows.append(
            SeatRow(
                release_id=release.id,
                released_at=entry.at if entry is not None else release.created_at,
                kindergarten_id=kg.id,
                kindergarten_ru=kg.name_ru,
                kindergarten_kk=kg.name_kk,
                address_ru=kg.address_ru,
                address_kk=kg.address_kk,
                ownership=str(kg.ownership),
                group=group.name,
                group_kind=str(group.kind),
                age_from=group.age_from,
                age_to=group.age_to,
                language=str(group.language),
                seats=release.seats,
                priority_end_at=release.priority_end_at,
                undone_at=undone.at if undone is not None else None,
                withdrawn=withdrawn.get(release.id, 0),
            )
        )
    return Page(total=total, rows=rows)


async def _withdrawn_unused(release_ids: list[int]) -> dict[int, int]:
    """Per release, its seats withdrawn before anyone took them (a seat a referral gave back
    is withdrawn too, but it was used: it has a referral)."""
    if not release_ids:
        return {}
    seats = await Seat.filter(release_id__in=release_ids, status=SeatStatus.withdrawn).values_list(
        "id", "release_id"
    )
    if not seats:
        return {}
    used = set(
        await Referral.filter(seat_id__in=[seat_id for seat_id, _ in seats]).values_list(
            "seat_id", flat=True
        )
    )
    counts: dict[int, int] = {}
    for seat_id, release_id in seats:
        if seat_id not in used:
            counts[int(release_id)] = counts.get(int(release_id), 0) + 1
    return counts


async def referral_protocol(
    flt: ReferralFilter, tz: ZoneInfo, *, limit: int = 50, offset: int = 0
) -> Page:
    query = _place_filter(Referral.all(), flt)
    if flt.status:
        query = query.filter(status=flt.status)
    if flt.day is not None:
        start, end = _day_range(flt.day, tz)
        query = query.filter(issued_at__gte=start, issued_at__lt=end)
    limit, offset = _bounds(limit, offset)
    total = await query.count()
    referrals = (
        await query.order_by("-id")
        .offset(offset)
        .limit(limit)
        .select_related("group", "kindergarten", "application__child__person")
    )
    rows: list[ReferralRow] = []
    for referral in referrals:
        group, kg = referral.group, referral.kindergarten
        person = referral.application.child.person
        rows.append(
            ReferralRow(
                referral_id=referral.id,
                number=referral.number,
                issued_at=referral.issued_at,
                expires_at=referral.expires_at,
                child=mask_name(person.last_name, person.first_name, person.middle_name)
                if person is not None
                else "",
                kindergarten_id=kg.id,
                kindergarten_ru=kg.name_ru,
                kindergarten_kk=kg.name_kk,
                group=group.name,
                age_from=group.age_from,
                age_to=group.age_to,
                language=str(group.language),
                status=str(referral.status),
            )
        )
    return Page(total=total, rows=rows)


# --- helpers ------------------------------------------------------------------------------------


def _place_filter(query: QuerySet[_M], flt: SeatFilter | ReferralFilter) -> QuerySet[_M]:
    """The kindergarten and group conditions both protocols share, as SQL."""
    if flt.city_id is not None:
        query = query.filter(kindergarten__city_id=flt.city_id)
    if flt.kindergarten_id is not None:
        query = query.filter(kindergarten_id=flt.kindergarten_id)
    if flt.kindergarten_name:
        query = query.filter(
            Q(kindergarten__name_ru__icontains=flt.kindergarten_name)
            | Q(kindergarten__name_kk__icontains=flt.kindergarten_name)
        )
    if flt.language:
        query = query.filter(group__language=flt.language)
    if flt.age_from is not None:
        query = query.filter(group__age_from=flt.age_from)
    if flt.age_to is not None:
        query = query.filter(group__age_to=flt.age_to)
    return query


async def _entity_ids_on(action: str, start: datetime, end: datetime) -> list[str]:
    ids = AuditEntry.filter(action=action, at__gte=start, at__lt=end).values_list("entity_id")
    return [str(entity_id) for (entity_id,) in await ids]


def _day_range(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def _bounds(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(MAX_LIMIT, limit)), max(0, offset)


def _json(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
