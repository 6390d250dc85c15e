"""Open-data figures (the portal's "Открытые данные" line), for a city or the whole country."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.models import (
    Application,
    ApplicationStatus,
    Departure,
    Kindergarten,
    Referral,
    ReferralStatus,
    Seat,
    SeatStatus,
)
from core.platform import clock
from core.platform.dates import local_today

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
    if city_id is not None:
        kindergartens = kindergartens.filter(city_id=city_id)
        seats = seats.filter(group__kindergarten__city_id=city_id)
        queued = queued.filter(city_id=city_id)
        referrals = referrals.filter(kindergarten__city_id=city_id)
    # Enrolled in these days, whether or not the child has left since (closed_at stays the
    # enrolment's moment when a departure is recorded).
    enrolled = referrals.filter(
        status__in=(ReferralStatus.enrolled, ReferralStatus.departed), closed_at__gte=since
    )
    # Children who left a kindergarten in the last 5 days, today included, by the day they
    # left (core.referrals.departures); a departure undone as a mistake is none.
    departures = Departure.filter(undone_at=None, left_on__gt=local_today() - WINDOW)
    if city_id is not None:
        departures = departures.filter(kindergarten__city_id=city_id)
    return OpenData(
        kindergartens=await kindergartens.count(),
        free_seats=await seats.count(),
        queued_applications=await queued.count(),
        enrolled_5_days=await enrolled.count(),
        dismissed_5_days=await departures.count(),
        referrals_issued=await referrals.count(),
        referrals_issued_5_days=await referrals.filter(issued_at__gte=since).count(),
    )
