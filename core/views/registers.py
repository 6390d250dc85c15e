"""The public protocols, read from the audit log (DOMAIN.md, "Public data").

Seat release protocol: every `seats.released` entry (kindergarten, group, language, seats,
priority end). Referral protocol: every `referral.issued` entry with the referral's latest
status from the log (number, period, masked child name, kindergarten, group, status).
Never IIN or phones; child names masked like "А***В Р*** Ж.".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.models import (
    Application,
    AuditEntry,
    Group,
    Kindergarten,
    Person,
)
from core.platform.pii import mask_name

MAX_LIMIT = 200


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

    def as_json(self) -> dict[str, Any]:
        return _json(asdict(self))


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
    entries = await _entries("seats.released", "seat_release", flt.day, tz)
    groups, kindergartens = await _places(
        {int(e.after.get("group_id", 0)) for e in entries if e.after}
    )
    rows: list[SeatRow] = []
    for entry in entries:
        after = entry.after or {}
        group = groups.get(int(after.get("group_id", 0)))
        if group is None:
            continue
        kg = kindergartens[group.kindergarten_id]
        if not _place_matches(flt, kg, group):
            continue
        if flt.ownership and str(kg.ownership) != flt.ownership:
            continue
        if flt.group_kind and str(group.kind) != flt.group_kind:
            continue
        rows.append(
            SeatRow(
                release_id=int(entry.entity_id),
                released_at=entry.at,
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
                language=str(after.get("language") or group.language),
                seats=int(after.get("seats", 0)),
                priority_end_at=_parse(after.get("priority_end_at")) or entry.at,
            )
        )
    return _page(rows, limit, offset)


async def referral_protocol(
    flt: ReferralFilter, tz: ZoneInfo, *, limit: int = 50, offset: int = 0
) -> Page:
    entries = await _entries("referral.issued", "referral", flt.day, tz)
    groups, kindergartens = await _places(
        {int(e.after.get("group_id", 0)) for e in entries if e.after}
    )
    latest = await _latest_states([e.entity_id for e in entries])
    children = await _child_names(
        {
            int(e.after["application_id"])
            for e in entries
            if e.after and e.after.get("application_id")
        }
    )
    rows: list[ReferralRow] = []
    for entry in entries:
        after = entry.after or {}
        group = groups.get(int(after.get("group_id", 0)))
        if group is None:
            continue
        kg = kindergartens[group.kindergarten_id]
        if not _place_matches(flt, kg, group):
            continue
        state = latest.get(entry.entity_id, after)
        status = str(state.get("status") or after.get("status") or "")
        if flt.status and status != flt.status:
            continue
        rows.append(
            ReferralRow(
                referral_id=int(entry.entity_id),
                number=str(after.get("number", "")),
                issued_at=entry.at,
                expires_at=_parse(state.get("expires_at") or after.get("expires_at")),
                child=children.get(int(after.get("application_id") or 0), ""),
                kindergarten_id=kg.id,
                kindergarten_ru=kg.name_ru,
                kindergarten_kk=kg.name_kk,
                group=group.name,
                age_from=group.age_from,
                age_to=group.age_to,
                language=str(group.language),
                status=status,
            )
        )
    return _page(rows, limit, offset)


# --- helpers ------------------------------------------------------------------------------------


async def _entries(action: str, entity: str, day: date | None, tz: ZoneInfo) -> list[AuditEntry]:
    query = AuditEntry.filter(action=action, entity=entity)
    if day is not None:
        start = datetime.combine(day, time.min, tzinfo=tz)
        query = query.filter(at__gte=start, at__lt=start + timedelta(days=1))
    return await query.order_by("-id")


async def _places(group_ids: set[int]) -> tuple[dict[int, Group], dict[int, Kindergarten]]:
    groups = {g.id: g for g in await Group.filter(id__in=group_ids)}
    kindergartens = {
        k.id: k
        for k in await Kindergarten.filter(id__in={g.kindergarten_id for g in groups.values()})
    }
    return groups, kindergartens


def _place_matches(flt: SeatFilter | ReferralFilter, kg: Kindergarten, group: Group) -> bool:
    if flt.city_id is not None and kg.city_id != flt.city_id:
        return False
    if flt.kindergarten_id is not None and kg.id != flt.kindergarten_id:
        return False
    if flt.kindergarten_name:
        needle = flt.kindergarten_name.casefold()
        if needle not in kg.name_ru.casefold() and needle not in kg.name_kk.casefold():
            return False
    if flt.language and str(group.language) != flt.language:
        return False
    if flt.age_from is not None and group.age_from != flt.age_from:
        return False
    return not (flt.age_to is not None and group.age_to != flt.age_to)


async def _latest_states(referral_ids: list[str]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    if not referral_ids:
        return latest
    for entity_id, after in (
        await AuditEntry.filter(entity="referral", entity_id__in=referral_ids)
        .order_by("id")
        .values_list("entity_id", "after")
    ):
        if after and after.get("status"):
            latest[entity_id] = after
    return latest


async def _child_names(application_ids: set[int]) -> dict[int, str]:
    if not application_ids:
        return {}
    pairs = await Application.filter(id__in=application_ids).values_list("id", "child__person_id")
    people = {
        p.id: p for p in await Person.filter(id__in={person for _, person in pairs if person})
    }
    names: dict[int, str] = {}
    for application_id, person_id in pairs:
        person = people.get(person_id)
        if person:
            names[application_id] = mask_name(
                person.last_name, person.first_name, person.middle_name
            )
    return names


def _page(rows: list[Any], limit: int, offset: int) -> Page:
    limit = max(1, min(MAX_LIMIT, limit))
    offset = max(0, offset)
    return Page(total=len(rows), rows=rows[offset : offset + limit])


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _json(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
