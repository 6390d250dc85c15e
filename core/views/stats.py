"""Open-data figures (the portal's "Открытые данные" line), for a city or the whole country."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    Kindergarten,
    Referral,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
)
from core.platform import clock

WINDOW = timedelta(days=5)


@dataclass(frozen=True)
class OpenData:
    kindergartens: int
    free_seats: int
    queued_applications: int
    enrolled_5_days: int
    dismissed_5_days: int
    referrals_issued: int
    referrals_issued_5_days: int


async def open_data(city_id: int | None = None) -> OpenData:
    """The figures for one city (an operator's or a kindergarten admin's) or, with None, the
    whole country (a superadmin's)."""
    since = clock.now() - WINDOW
    kindergartens = Kindergarten.all()
    seats = Seat.filter(status=SeatStatus.free)
    queued = Application.filter(status=ApplicationStatus.active)
    referrals = Referral.all()
    releases = SeatRelease.filter(created_at__gte=since)
    if city_id is not None:
        kindergartens = kindergartens.filter(city_id=city_id)
        seats = seats.filter(group__kindergarten__city_id=city_id)
        queued = queued.filter(city_id=city_id)
        referrals = referrals.filter(kindergarten__city_id=city_id)
        releases = releases.filter(kindergarten__city_id=city_id)
    enrolled = referrals.filter(status=ReferralStatus.enrolled, closed_at__gte=since)
    # A child leaving a kindergarten frees a seat that staff (or the kindergarten's system)
    # release; seats coming back from unused referrals are re-releases, not departures.
    # Summed here: an aggregate over a joined filter made Tortoise group by every column and
    # take one arbitrary release (an operator saw 4 where the city had 27).
    released = sum(int(row["seats"]) for row in await releases.values("seats"))
    returned_ids = [
        entity_id
        for (entity_id,) in await AuditEntry.filter(
            action="seat.returned", at__gte=since
        ).values_list("entity_id")
    ]
    returned = len(returned_ids)
    if city_id is not None and returned_ids:
        returned = await Seat.filter(
            id__in=[int(i) for i in returned_ids], group__kindergarten__city_id=city_id
        ).count()
    # A release undone as a mistake (core.referrals.undo.undo_release) freed no seat.
    withdrawn = 0
    for entity_id, after in await AuditEntry.filter(
        action="seats.released.undone", at__gte=since
    ).values_list("entity_id", "after"):
        if city_id is None or await releases.filter(id=int(entity_id)).exists():
            withdrawn += int((after or {}).get("withdrawn", 0))
    dismissed = max(0, int(released) - returned - withdrawn)
    return OpenData(
        kindergartens=await kindergartens.count(),
        free_seats=await seats.count(),
        queued_applications=await queued.count(),
        enrolled_5_days=await enrolled.count(),
        dismissed_5_days=dismissed,
        referrals_issued=await referrals.count(),
        referrals_issued_5_days=await referrals.filter(issued_at__gte=since).count(),
    )
