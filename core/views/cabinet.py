"""The parent's personal cabinet: read models and the few changes no other service owns.

The bot's cabinet, referral and extension conversations read through here (applications with
positions, referrals, the event feed, phones) so that dialogs never query the database: the one
home of the parent's read side. Changes stay in their features (withdraw and restore in
`core.applications.lifecycle`, extend and decline in `core.referrals.lifecycle`, language and
phones in `core.people.applicants`); this module keeps only the notification channel and the
access-recovery transfer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    Channel,
    ExtensionAnswers,
    Kindergarten,
    Notification,
    Offer,
    OfferStatus,
    Phone,
    Referral,
    ReferralMode,
    ReferralStatus,
    SeatRelease,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue import order as queue

FEED_PAGE_SIZE = 5


@dataclass(frozen=True)
class KindergartenPosition:
    kindergarten_id: int
    name_ru: str
    name_kk: str
    rank: int
    language: str
    position: int | None


@dataclass(frozen=True)
class ApplicationCard:
    id: int
    number: int
    status: str
    archive_reason: str | None
    queue_type: str
    birth_year: int
    child_last_name: str
    child_first_name: str
    child_iin: str | None
    submitted_at: datetime
    valid_until: date
    stop_listed_until: datetime | None
    position: int | None
    kindergartens: list[KindergartenPosition] = field(default_factory=list)
    has_live_referral: bool = False
    stream: int = 2  # core.models.Stream: 0 extraordinary, 1 first priority, 2 general
    benefit_category: int | None = None
    benefit_status: str = "none"  # core.models.BenefitStatus
    referral_from: date | None = None  # "from a date" mode: no offers before this day

    @property
    def child_name(self) -> str:
        return f"{self.child_last_name} {self.child_first_name}".strip()

    @property
    def can_withdraw(self) -> bool:
        return self.status != ApplicationStatus.archived

    @property
    def can_restore(self) -> bool:
        return self.status == ApplicationStatus.stop_listed

    @property
    def can_get_referral(self) -> bool:
        return self.status == ApplicationStatus.active and not self.has_live_referral


@dataclass(frozen=True)
class ReferralCard:
    id: int
    number: str
    status: str
    application_id: int
    application_number: int
    child_last_name: str
    child_first_name: str
    kindergarten_ru: str
    kindergarten_kk: str
    address_ru: str
    address_kk: str
    group_name: str
    group_language: str
    issued_at: datetime
    expires_at: datetime
    extended: bool
    queue_type: str = "general"  # what to bring depends on it (DOMAIN.md)
    benefit: int | None = None  # benefit 9 (special needs) brings the PMPK conclusion too
    group_birth_year: int = 0
    group_kind: str = "general"

    @property
    def child_name(self) -> str:
        return f"{self.child_last_name} {self.child_first_name}".strip()

    @property
    def live(self) -> bool:
        return self.status in LIVE_REFERRAL_STATUSES

    @property
    def can_extend(self) -> bool:
        return self.status == ReferralStatus.awaiting_enrollment and not self.extended

    @property
    def can_decline(self) -> bool:
        return self.live


@dataclass(frozen=True)
class FeedItem:
    id: int
    kind: str
    params: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class PhoneView:
    id: int
    number: str
    verified: bool


# --- applications -------------------------------------------------------------------------


async def applications_of(
    applicant_id: int, settings: Settings, *, positions: bool = True
) -> list[ApplicationCard]:
    """The parent's applications, newest first, with queue positions where they count.

    A list that shows no positions passes `positions=False`: each position is its own count
    over the queue, so a parent with several applications would cost a query per card."""
    rows = (
        await Application.filter(applicant_id=applicant_id)
        .prefetch_related("child__person", "choices__kindergarten")
        .order_by("-submitted_at")
    )
    live = {
        application_id
        for (application_id,) in await Referral.filter(
            application_id__in=[row.id for row in rows], status__in=LIVE_REFERRAL_STATUSES
        ).values_list("application_id")
    }
    return [await _card(row, row.id in live, settings, positions=positions) for row in rows]


async def application_of(
    applicant_id: int, application_id: int, settings: Settings
) -> ApplicationCard:
    """One application of this parent (refused for anyone else's)."""
    row = (
        await Application.filter(id=application_id, applicant_id=applicant_id)
        .prefetch_related("child__person", "choices__kindergarten")
        .first()
    )
    if row is None:
        raise DomainError(Reason.application_not_found)
    live = await Referral.filter(application_id=row.id, status__in=LIVE_REFERRAL_STATUSES).exists()
    return await _card(row, live, settings)


async def _card(
    row: Application, has_live_referral: bool, settings: Settings, *, positions: bool = True
) -> ApplicationCard:
    person = row.child.person
    ranked = positions and row.status == ApplicationStatus.active
    position = (await queue.city_position(row, settings)).place if ranked else None
    kindergartens = []
    if ranked:
        for choice, place in await queue.kindergarten_positions(row, settings):
            kindergartens.append(_kg_position(choice, place.place))
    else:
        for choice in sorted(row.choices, key=lambda c: c.rank):
            kindergartens.append(_kg_position(choice, None))
    return ApplicationCard(
        id=row.id,
        number=row.number,
        status=str(row.status),
        archive_reason=str(row.archive_reason) if row.archive_reason else None,
        queue_type=str(row.queue_type),
        birth_year=row.birth_year,
        child_last_name=person.last_name,
        child_first_name=person.first_name,
        child_iin=person.iin,
        submitted_at=row.submitted_at,
        valid_until=row.valid_until,
        stop_listed_until=row.stop_listed_until,
        position=position,
        kindergartens=kindergartens,
        has_live_referral=has_live_referral,
        stream=int(row.stream),
        benefit_category=row.benefit_category,
        benefit_status=str(row.benefit_status),
        referral_from=row.referral_from if row.referral_mode == ReferralMode.from_date else None,
    )


def _kg_position(choice: ApplicationChoice, place: int | None) -> KindergartenPosition:
    return KindergartenPosition(
        kindergarten_id=choice.kindergarten_id,
        name_ru=choice.kindergarten.name_ru,
        name_kk=choice.kindergarten.name_kk,
        rank=choice.rank,
        language=str(choice.language),
        position=place,
    )


# --- referrals ----------------------------------------------------------------------------


async def referrals_of(applicant_id: int) -> list[ReferralCard]:
    """The parent's referrals, newest first."""
    rows = (
        await Referral.filter(application__applicant_id=applicant_id)
        .prefetch_related("application__child__person", "kindergarten", "group")
        .order_by("-issued_at")
    )
    return [_referral_card(row) for row in rows]


async def referral_of(applicant_id: int, referral_id: int) -> ReferralCard:
    row = (
        await Referral.filter(id=referral_id, application__applicant_id=applicant_id)
        .prefetch_related("application__child__person", "kindergarten", "group")
        .first()
    )
    if row is None:
        raise DomainError(Reason.referral_not_found)
    return _referral_card(row)


def _referral_card(row: Referral) -> ReferralCard:
    person = row.application.child.person
    return ReferralCard(
        id=row.id,
        number=row.number,
        status=str(row.status),
        application_id=row.application_id,
        application_number=row.application.number,
        child_last_name=person.last_name,
        child_first_name=person.first_name,
        kindergarten_ru=row.kindergarten.name_ru,
        kindergarten_kk=row.kindergarten.name_kk,
        address_ru=row.kindergarten.address_ru,
        address_kk=row.kindergarten.address_kk,
        group_name=row.group.name,
        group_language=str(row.group.language),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        extended=row.extended,
        queue_type=str(row.application.queue_type),
        benefit=row.application.benefit_category,
        group_birth_year=row.group.birth_year,
        group_kind=str(row.group.kind),
    )


# --- event feed ---------------------------------------------------------------------------


async def feed(applicant_id: int, page: int = 0, page_size: int = FEED_PAGE_SIZE) -> FeedPage:
    """The parent's notifications, newest first, one page at a time (page counts from 0)."""
    query = Notification.filter(applicant_id=applicant_id)
    total = await query.count()
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 0), pages - 1)
    rows = await query.order_by("-created_at", "-id").offset(page * page_size).limit(page_size)
    items = [
        FeedItem(id=row.id, kind=row.kind, params=dict(row.params or {}), created_at=row.created_at)
        for row in rows
    ]
    return FeedPage(items=items, page=page, pages=pages, total=total)


# --- settings -----------------------------------------------------------------------------


async def set_channel(applicant_id: int, channel: str) -> None:
    await Applicant.filter(id=applicant_id).update(channel=Channel(channel))


async def phones_of(applicant_id: int) -> list[PhoneView]:
    rows = await Phone.filter(applicant_id=applicant_id).order_by("id")
    return [PhoneView(id=p.id, number=p.number, verified=p.verified_at is not None) for p in rows]


# --- access recovery ----------------------------------------------------------------------


async def applications_of_child(child_iin: str) -> list[Application]:
    """Applications (not archived) filed for the child with this IIN, by anyone."""
    return await Application.filter(
        child__person__iin=child_iin, status__not=ApplicationStatus.archived
    ).order_by("submitted_at")


# --- extension questionnaire support --------------------------------------------------------


@dataclass(frozen=True)
class KindergartenOption:
    id: int
    name_ru: str
    name_kk: str


async def kindergarten_options(applicant_id: int, limit: int = 60) -> list[KindergartenOption]:
    """Kindergartens for the questionnaire: the ones the parent chose first, then their city's."""
    chosen = (
        await ApplicationChoice.filter(application__applicant_id=applicant_id)
        .order_by("application_id", "rank")
        .prefetch_related("kindergarten")
    )
    seen: dict[int, KindergartenOption] = {}
    for choice in chosen:
        kg = choice.kindergarten
        seen.setdefault(kg.id, KindergartenOption(kg.id, kg.name_ru, kg.name_kk))
    city_ids = set(
        await Application.filter(applicant_id=applicant_id).values_list("city_id", flat=True)
    )
    query = Kindergarten.all()
    if city_ids:
        query = query.filter(city_id__in=city_ids)
    for kg in await query.order_by("name_ru").limit(limit):
        seen.setdefault(kg.id, KindergartenOption(kg.id, kg.name_ru, kg.name_kk))
    return list(seen.values())[:limit]


@dataclass(frozen=True)
class StoredAnswers:
    season: int
    answers: dict[str, Any]
    extended_numbers: list[int]
    created_at: datetime
    valid_until: list[tuple[int, date]]


async def latest_answers(applicant_id: int) -> StoredAnswers | None:
    """The parent's most recent questionnaire and the validity of the applications it extended."""
    row = (
        await ExtensionAnswers.filter(applicant_id=applicant_id)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None:
        return None
    numbers = [int(n) for n in row.extended_numbers or []]
    valid = (
        await Application.filter(number__in=numbers)
        .order_by("number")
        .values_list("number", "valid_until")
    )
    return StoredAnswers(
        season=row.season,
        answers=dict(row.answers or {}),
        extended_numbers=numbers,
        created_at=row.created_at,
        valid_until=[(int(n), v) for n, v in valid],
    )


async def kindergarten_names(ids: list[int]) -> dict[int, tuple[str, str]]:
    rows = await Kindergarten.filter(id__in=ids)
    return {row.id: (row.name_ru, row.name_kk) for row in rows}


# --- referral selection support -------------------------------------------------------------


@dataclass(frozen=True)
class OpenOffer:
    release_id: int
    kindergarten_ru: str
    kindergarten_kk: str
    group_name: str
    group_language: str
    priority_end_at: datetime
    group_birth_year: int = 0
    group_kind: str = "general"


async def open_offers(applicant_id: int, application_id: int) -> list[OpenOffer]:
    """Seat offers addressed to this application that are still open (priority window on)."""
    rows = (
        await Offer.filter(
            application_id=application_id,
            application__applicant_id=applicant_id,
            status=OfferStatus.open,
            release__priority_end_at__gt=clock.now(),
        )
        .prefetch_related("release__group", "release__kindergarten")
        .order_by("id")
    )
    return [
        OpenOffer(
            release_id=row.release_id,
            kindergarten_ru=row.release.kindergarten.name_ru,
            kindergarten_kk=row.release.kindergarten.name_kk,
            group_name=row.release.group.name,
            group_language=str(row.release.group.language),
            priority_end_at=row.release.priority_end_at,
            group_birth_year=row.release.group.birth_year,
            group_kind=str(row.release.group.kind),
        )
        for row in rows
    ]


async def release_place(release_id: int) -> tuple[int, int] | None:
    """(kindergarten_id, group_id) of a seat release, for the push button that opens it."""
    row = await SeatRelease.get_or_none(id=release_id)
    return (row.kindergarten_id, row.group_id) if row else None


async def owns_application(applicant_id: int, application_id: int) -> bool:
    return await Application.filter(id=application_id, applicant_id=applicant_id).exists()


async def person_iin(applicant_id: int) -> str | None:
    """The parent's own IIN when the registry record is linked to the applicant."""
    applicant = await Applicant.get_or_none(id=applicant_id).prefetch_related("person")
    person = applicant.person if applicant else None
    return person.iin if person else None
