"""The staff lists that must work at city scale (hundreds of kindergartens, tens of thousands of
applications): a page at a time, filtered and searched in SQL, scoped to what the staff member
may see, and kindergartens in natural order ("№3" before "№10").

Pending benefits: the extraordinary-benefit claims waiting for a staff decision. Claims whose
referral waits for the confirmation come first, the nearest deadline first (the referral is
annulled after `benefit_confirm_working_days` working days, counted from its issue); then the
claims without a referral, the oldest submission first.

Broadcasts: newest first, a staff member's own (a superadmin's: everybody's), each with its
author and progress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from core.calendar.working_days import is_working_day
from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    BenefitStatus,
    Broadcast,
    Document,
    Group,
    Kindergarten,
    Referral,
    ReferralStatus,
    StaffMember,
    StaffRole,
)
from core.platform import clock
from core.platform.pii import mask_name

MAX_PAGE_SIZE = 50
OPEN_STATUSES = (ApplicationStatus.active, ApplicationStatus.stop_listed)
_NUMBERED = re.compile(r"№\s*(\d+)")
_DIGITS = re.compile(r"(\d+)")


class ClaimStatus(StrEnum):
    """The status filter of the pending benefits."""

    all = "all"
    referral = "referral"  # a referral waits for this confirmation (a deadline runs)
    no_referral = "no_referral"


@dataclass(frozen=True)
class PendingBenefit:
    """One row of the list: whose claim, which benefit, where, and how long is left."""

    application_id: int
    number: int
    child: str  # masked: "А***В А***"
    birth_year: int
    benefit_category: int | None
    submitted_at: datetime
    kindergarten_id: int | None  # the referral's, else the first choice's
    kindergarten_ru: str
    kindergarten_kk: str
    has_document: bool
    referral_number: str | None = None
    deadline: datetime | None = None  # the referral is annulled then without a decision
    working_days_left: int | None = None


@dataclass(frozen=True)
class KindergartenCount:
    kindergarten: Kindergarten
    claims: int


async def broadcast_page(
    staff: StaffMember, page: int, size: int
) -> tuple[list[tuple[Broadcast, StaffMember]], int]:
    """A page of the broadcasts the staff member may see, newest first, each with its author,
    and how many in all (their progress: core.notifications.broadcasts.progress)."""
    query = Broadcast.all()
    if staff.role != StaffRole.superadmin:
        query = query.filter(staff_id=staff.id)
    size = max(1, min(MAX_PAGE_SIZE, size))
    total = await query.count()
    found = await query.order_by("-id").offset(max(page, 0) * size).limit(size)
    authors = {
        member.id: member
        for member in await StaffMember.filter(id__in=list({b.staff_id for b in found}))
    }
    return [(b, authors[b.staff_id]) for b in found], total


def sort_groups_naturally(groups: list[Group]) -> list[Group]:
    """Groups by birth year, then name in natural order ("№3" before "№10")."""
    return sorted(groups, key=lambda g: (g.birth_year, natural_key(g.name)))


def natural_key(name: str) -> tuple[int, int, list[tuple[int, int | str]]]:
    """Sort key of a kindergarten name: by its number first ("Ясли-сад №1", "Детский сад №3",
    "№10 бөбекжай-бақша"), then the name with its digit runs compared as numbers; names without a
    number after all numbered ones."""
    numbered = _NUMBERED.search(name) or _DIGITS.search(name)
    number = int(numbered.group(1)) if numbered else 0
    parts: list[tuple[int, int | str]] = [
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in _DIGITS.split(name)
        if part
    ]
    return (0 if numbered else 1, number, parts)


async def pending_benefits(
    staff: StaffMember,
    page: int = 0,
    size: int = 8,
    kindergarten_id: int | None = None,
    search: str = "",
    *,
    status: ClaimStatus = ClaimStatus.all,
    birth_year: int | None = None,
    tz: ZoneInfo | None = None,
) -> tuple[list[PendingBenefit], int]:
    """One page (from 0) of the pending benefit claims the staff member may decide, and how many
    there are in all. `search`: an application number, a referral number ("NP-2026-000003", or
    its last digits) or a part of the child's name; `birth_year`: the children's cohort."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    offset = max(page, 0) * size
    claims = _claims(staff, kindergarten_id, search)
    if birth_year is not None:
        claims = claims.filter(birth_year=birth_year)
    waiting = Referral.filter(
        status=ReferralStatus.awaiting_benefit_confirmation,
        application_id__in=Subquery(claims.values("id")),
    )
    with_referral = 0 if status == ClaimStatus.no_referral else await waiting.count()
    without = Application.filter(id__in=Subquery(claims.values("id"))).exclude(
        id__in=Subquery(
            Referral.filter(status=ReferralStatus.awaiting_benefit_confirmation).values(
                "application_id"
            )
        )
    )
    without_count = 0 if status == ClaimStatus.referral else await without.count()
    total = with_referral + without_count
    referrals: list[Referral] = []
    if offset < with_referral:
        referrals = (
            await waiting.order_by("expires_at", "id")
            .offset(offset)
            .limit(size)
            .prefetch_related("kindergarten")
        )
    rest = size - len(referrals)
    plain: list[Application] = []
    if rest > 0 and without_count:
        plain = (
            await without.order_by("submitted_at", "id")
            .offset(max(offset - with_referral, 0))
            .limit(rest)
            .prefetch_related("child__person")
        )
    rows = [*await _rows_with_referral(referrals, tz), *await _rows_without(plain)]
    return rows, total


async def pending_benefit(staff: StaffMember, application_id: int) -> PendingBenefit | None:
    """The row of one claim, if it is pending and in the staff member's scope."""
    claim = await _claims(staff, None, "").filter(id=application_id).first()
    if claim is None:
        return None
    referral = await Referral.filter(
        application_id=application_id, status=ReferralStatus.awaiting_benefit_confirmation
    ).first()
    if referral is not None:
        await referral.fetch_related("kindergarten")
        return (await _rows_with_referral([referral], None))[0]
    await claim.fetch_related("child__person")
    return (await _rows_without([claim]))[0]


async def benefit_kindergartens(staff: StaffMember) -> list[KindergartenCount]:
    """The kindergartens (in scope) chosen by pending claims, with how many, in natural order:
    the kindergarten filter of /benefits lists only those."""
    claims = _claims(staff, None, "")
    counted = (
        await ApplicationChoice.filter(application_id__in=Subquery(claims.values("id")))
        .annotate(claims=Count("application_id", distinct=True))
        .group_by("kindergarten_id")
        .values("kindergarten_id", "claims")
    )
    counts = {int(row["kindergarten_id"]): int(row["claims"]) for row in counted}
    query = Kindergarten.filter(id__in=list(counts))
    if staff.role == StaffRole.operator:
        query = query.filter(city_id=staff.city_id)
    elif staff.role == StaffRole.kindergarten_admin:
        query = query.filter(id=staff.kindergarten_id)
    found = await query
    found.sort(key=lambda kg: natural_key(kg.name_ru))
    return [KindergartenCount(kg, counts[kg.id]) for kg in found]


async def benefit_birth_years(staff: StaffMember) -> list[tuple[int, int]]:
    """The birth years (cohorts) of the pending claims in scope with how many, youngest last:
    the age filter of /benefits lists only those."""
    claims = _claims(staff, None, "")
    counted = (
        await Application.filter(id__in=Subquery(claims.values("id")))
        .annotate(claims=Count("id"))
        .group_by("birth_year")
        .values("birth_year", "claims")
    )
    return sorted((int(row["birth_year"]), int(row["claims"])) for row in counted)


async def benefit_document(staff: StaffMember, application_id: int) -> Document | None:
    """The document uploaded with a pending claim in scope (None: no claim or no document)."""
    claim = await _claims(staff, None, "").filter(id=application_id).first()
    if claim is None or claim.benefit_document_id is None:
        return None
    return await Document.get_or_none(id=claim.benefit_document_id)


def sort_naturally(kindergartens: list[Kindergarten]) -> list[Kindergarten]:
    return sorted(kindergartens, key=lambda kg: natural_key(kg.name_ru))


# --- the query --------------------------------------------------------------------------------


def _claims(staff: StaffMember, kindergarten_id: int | None, search: str) -> QuerySet[Application]:
    """The pending claims in scope, filtered (rows may repeat: used as `id IN (...)`)."""
    query = Application.filter(benefit_status=BenefitStatus.pending, status__in=list(OPEN_STATUSES))
    if staff.role == StaffRole.operator:
        query = query.filter(city_id=staff.city_id)
    elif staff.role == StaffRole.kindergarten_admin:
        query = query.filter(
            id__in=Subquery(
                ApplicationChoice.filter(kindergarten_id=staff.kindergarten_id).values(
                    "application_id"
                )
            )
        )
    if kindergarten_id is not None:
        query = query.filter(
            id__in=Subquery(
                ApplicationChoice.filter(kindergarten_id=kindergarten_id).values("application_id")
            )
        )
    found = _search(search)
    return query.filter(found) if found is not None else query


def _search(text: str) -> Q | None:
    text = " ".join(text.split()).lstrip("#№").strip()
    if not text:
        return None
    found = Q(id__in=Subquery(Referral.filter(number__iexact=text).values("application_id")))
    if text.isdigit():
        if len(text) <= 18:  # application numbers are BIGINT
            found |= Q(number=int(text))
        if len(text) <= 9:  # "3" or "000003": the serial part of NP-2026-000003
            serial = Referral.filter(number__endswith=f"-{int(text):06d}")
            found |= Q(id__in=Subquery(serial.values("application_id")))
        return found
    every = Q()  # "Ахметова Айгерим": each word in the surname or the first name
    for word in text.split():
        every &= Q(child__person__last_name__icontains=word) | Q(
            child__person__first_name__icontains=word
        )
    return found | every


# --- rows -------------------------------------------------------------------------------------


async def _rows_with_referral(
    referrals: list[Referral], tz: ZoneInfo | None
) -> list[PendingBenefit]:
    if not referrals:
        return []
    apps = {
        a.id: a
        for a in await Application.filter(
            id__in=[r.application_id for r in referrals]
        ).prefetch_related("child__person")
    }
    rows = []
    for referral in referrals:
        app = apps[referral.application_id]
        kindergarten = referral.kindergarten
        rows.append(
            _row(
                app,
                kindergarten,
                referral_number=referral.number,
                deadline=referral.expires_at,
                working_days_left=working_days_left(referral.expires_at, tz),
            )
        )
    return rows


async def _rows_without(apps: list[Application]) -> list[PendingBenefit]:
    if not apps:
        return []
    first = {
        c.application_id: c.kindergarten
        for c in await ApplicationChoice.filter(
            application_id__in=[a.id for a in apps], rank=1
        ).prefetch_related("kindergarten")
    }
    return [_row(app, first.get(app.id)) for app in apps]


def _row(
    app: Application,
    kindergarten: Kindergarten | None,
    *,
    referral_number: str | None = None,
    deadline: datetime | None = None,
    working_days_left: int | None = None,
) -> PendingBenefit:
    person = app.child.person
    return PendingBenefit(
        application_id=app.id,
        number=app.number,
        child=mask_name(person.last_name, person.first_name),
        birth_year=app.birth_year,
        benefit_category=app.benefit_category,
        submitted_at=app.submitted_at,
        kindergarten_id=kindergarten.id if kindergarten else None,
        kindergarten_ru=kindergarten.name_ru if kindergarten else "",
        kindergarten_kk=kindergarten.name_kk if kindergarten else "",
        has_document=app.benefit_document_id is not None,
        referral_number=referral_number,
        deadline=deadline,
        working_days_left=working_days_left,
    )


def working_days_left(deadline: datetime, tz: ZoneInfo | None) -> int:
    """Working days from today (not counted) to the deadline's day (counted); 0 on the last
    day or after it."""
    now = clock.now()
    if deadline <= now:
        return 0
    today = now.astimezone(tz).date() if tz else now.date()
    last = deadline.astimezone(tz).date() if tz else deadline.date()
    days, day = 0, today
    while day < last:
        day += timedelta(days=1)
        if is_working_day(day):
            days += 1
    return days
