"""What past seasons say about a queue: the inputs of `core.foresight.odds` read from the
database, and the outlook of an application (chances and typical wait per chosen kindergarten
and for the city).

A season runs from 1 September to 31 August. The analogue of a cohort in a past season is the
cohort of the same age then (born one year earlier per season back): the children the
kindergarten actually took at that age. Referrals are counted by their issue date; the entries
ahead are the extraordinary and first-priority applications submitted in that month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from redis.asyncio import Redis

from core.foresight.odds import MONTHS, Forecast, Season, forecast
from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    Referral,
    Stream,
)
from core.platform.dates import local_today
from core.platform.settings import Settings
from core.queue.order import city_position, kindergarten_positions

PAST_SEASONS = 3
_PRIORITY = (Stream.extraordinary, Stream.first_priority)


@dataclass(frozen=True)
class ChoiceOutlook:
    kindergarten_id: int
    name_ru: str
    name_kk: str
    language: str
    place: int
    forecast: Forecast | None


@dataclass(frozen=True)
class Outlook:
    city_place: int
    city: Forecast | None
    choices: list[ChoiceOutlook]


def season_of(day: date) -> int:
    """The year the season containing `day` started (1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def season_month(day: date) -> int:
    """0 = September ... 11 = August."""
    return (day.month - 9) % MONTHS


def _bounds(season: int) -> tuple[datetime, datetime]:
    return datetime(season, 9, 1, tzinfo=UTC), datetime(season + 1, 9, 1, tzinfo=UTC)


def _monthly(moments: Sequence[datetime]) -> tuple[int, ...]:
    counts = [0] * MONTHS
    for at in moments:
        counts[season_month(at.date())] += 1
    return tuple(counts)


async def kindergarten_seasons(
    kindergarten_id: int, queue_type: str, birth_year: int, language: str, today: date
) -> list[Season]:
    """The past seasons of one kindergarten's queue (same age, language and queue type)."""
    now_season = season_of(today)
    seasons = []
    for back in range(1, PAST_SEASONS + 1):
        start, end = _bounds(now_season - back)
        year = birth_year - back
        issued = await Referral.filter(
            kindergarten_id=kindergarten_id,
            group__language=language,
            application__birth_year=year,
            application__queue_type=queue_type,
            issued_at__gte=start,
            issued_at__lt=end,
        ).values_list("issued_at", flat=True)
        entered = await ApplicationChoice.filter(
            kindergarten_id=kindergarten_id,
            language=language,
            birth_year=year,
            queue_type=queue_type,
            stream__in=_PRIORITY,
            submitted_at__gte=start,
            submitted_at__lt=end,
        ).values_list("submitted_at", flat=True)
        if issued:
            seasons.append(Season(_monthly(issued), _monthly(entered)))  # type: ignore[arg-type]
    return seasons


async def city_seasons(city_id: int, queue_type: str, birth_year: int, today: date) -> list[Season]:
    """The past seasons of the city cohort's queue."""
    now_season = season_of(today)
    seasons = []
    for back in range(1, PAST_SEASONS + 1):
        start, end = _bounds(now_season - back)
        year = birth_year - back
        issued = await Referral.filter(
            application__city_id=city_id,
            application__birth_year=year,
            application__queue_type=queue_type,
            issued_at__gte=start,
            issued_at__lt=end,
        ).values_list("issued_at", flat=True)
        entered = await Application.filter(
            city_id=city_id,
            birth_year=year,
            queue_type=queue_type,
            stream__in=_PRIORITY,
            submitted_at__gte=start,
            submitted_at__lt=end,
        ).values_list("submitted_at", flat=True)
        if issued:
            seasons.append(Season(_monthly(issued), _monthly(entered)))  # type: ignore[arg-type]
    return seasons


def _predict(place: int, seasons: list[Season], today: date, seed: int) -> Forecast | None:
    month = season_month(today)
    return forecast(place, seasons, start_month=month, deadline_months=MONTHS - month, seed=seed)


async def outlook(app: Application, settings: Settings, *, index: Redis | None = None) -> Outlook:
    """Chances and typical wait for each chosen kindergarten and for the city."""
    today = local_today(settings)
    qt = str(app.queue_type)
    city = await city_position(app, settings, index=index)
    city_forecast = _predict(
        city.place, await city_seasons(app.city_id, qt, app.birth_year, today), today, app.id
    )
    choices = []
    for choice, position in await kindergarten_positions(app, settings, index=index):
        seasons = await kindergarten_seasons(
            choice.kindergarten_id, qt, app.birth_year, str(choice.language), today
        )
        kg = choice.kindergarten
        choices.append(
            ChoiceOutlook(
                kindergarten_id=choice.kindergarten_id,
                name_ru=kg.name_ru,
                name_kk=kg.name_kk,
                language=str(choice.language),
                place=position.place,
                forecast=_predict(position.place, seasons, today, app.id * 31 + choice.rank),
            )
        )
    return Outlook(city.place, city_forecast, choices)


async def choice_forecast(
    kindergarten_id: int, queue_type: str, birth_year: int, language: str, settings: Settings
) -> Forecast | None:
    """For a kindergarten being chosen: the chance of a new application, which would stand
    after everyone now in that queue (a general application)."""
    today = local_today(settings)
    queued = await ApplicationChoice.filter(
        kindergarten_id=kindergarten_id,
        queue_type=queue_type,
        birth_year=birth_year,
        language=language,
        active=True,
    ).count()
    seasons = await kindergarten_seasons(kindergarten_id, queue_type, birth_year, language, today)
    return _predict(queued + 1, seasons, today, kindergarten_id)


async def active_count(city_id: int, queue_type: str, birth_year: int) -> int:
    return await Application.filter(
        city_id=city_id,
        queue_type=queue_type,
        birth_year=birth_year,
        status=ApplicationStatus.active,
    ).count()
