"""What the parent's foresight screens read: one application of this parent (refused for anyone
else's), the explanation since a chosen moment, the outlook and the chart's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from redis.asyncio import Redis

from core.foresight import chart, history
from core.foresight.explain import Explanation
from core.foresight.seasons import Outlook, outlook, season_of
from core.models import Application, ApplicationStatus
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings


class Since(StrEnum):
    last = "last"  # the last time the parent looked (else the last notification, else a month)
    notified = "notified"  # the last "position changed" notification
    told = "told"  # the one before it: what the last notification told (its button)
    month = "month"  # 30 days ago
    season = "season"  # 1 September of this season


@dataclass(frozen=True)
class Moved:
    number: int
    since: Since
    since_at: datetime
    explanation: Explanation


async def owned_application_id(applicant_id: int, number: int) -> int:
    """The id of this parent's application `number` (refused for anyone else's)."""
    app = await Application.get_or_none(number=number, applicant_id=applicant_id)
    if app is None:
        raise DomainError(Reason.application_not_found)
    return int(app.id)


async def _own(applicant_id: int, application_id: int) -> Application:
    app = await Application.get_or_none(id=application_id, applicant_id=applicant_id)
    if app is None:
        raise DomainError(Reason.application_not_found)
    return app


async def _moment(app: Application, since: Since, settings: Settings, redis: Redis) -> datetime:
    """The start of the period; without a notification, the registration (the place the
    parent was shown then) when it is less than a month old."""
    now = clock.now()
    fallback = max(now - timedelta(days=30), app.submitted_at)
    if since is Since.season:
        start = season_of(local_today(settings))
        return datetime(start, 9, 1, tzinfo=settings.tz).astimezone(UTC)
    if since is Since.month:
        return now - timedelta(days=30)
    if since is Since.told:
        return await history.last_notified_at(app, skip=1) or fallback
    notified = await history.last_notified_at(app)
    if since is Since.notified:
        return notified or fallback
    seen = await history.last_seen_at(redis, app.id)
    return seen or notified or fallback


async def why_moved(
    applicant_id: int, application_id: int, since: Since, settings: Settings, redis: Redis
) -> Moved:
    """The explanation since the chosen moment; remembers that the parent looked now."""
    app = await _own(applicant_id, application_id)
    at = await _moment(app, since, settings, redis)
    explanation = await history.why_moved(app, at, settings)
    if app.status == ApplicationStatus.active:
        await history.mark_seen(redis, app.id)
    return Moved(int(app.number), since, at, explanation)


async def chances(
    applicant_id: int, application_id: int, settings: Settings, redis: Redis | None = None
) -> Outlook:
    app = await _own(applicant_id, application_id)
    return await outlook(app, settings, index=redis)


async def position_chart(
    applicant_id: int, application_id: int, settings: Settings, labels: chart.Labels
) -> bytes:
    """The PNG of the application's place over the last year and its cohort's referrals."""
    app = await _own(applicant_id, application_id)
    return chart.position_png(await chart.position_history(app, settings), labels)


async def city_chart(city_id: int | None, labels: chart.Labels) -> bytes:
    """The PNG of the city's (None: every city's) applications and referrals per month."""
    return chart.city_png(await chart.city_history(city_id), labels)
