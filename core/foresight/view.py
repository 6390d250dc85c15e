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
    month = "month"  # 30 days ago
    season = "season"  # 1 September of this season


@dataclass(frozen=True)
class Moved:
    number: int
    since: Since
    since_at: datetime
    explanation: Explanation


async def _own(applicant_id: int, application_id: int) -> Application:
    app = await Application.get_or_none(id=application_id, applicant_id=applicant_id)
    if app is None:
        raise DomainError(Reason.application_not_found)
    return app


async def _moment(app: Application, since: Since, settings: Settings, redis: Redis) -> datetime:
    now = clock.now()
    month_ago = now - timedelta(days=30)
    if since is Since.season:
        start = season_of(local_today(settings))
        return datetime(start, 9, 1, tzinfo=settings.tz).astimezone(UTC)
    if since is Since.month:
        return month_ago
    notified = await history.last_notified_at(app)
    if since is Since.notified:
        return notified or month_ago
    seen = await history.last_seen_at(redis, app.id)
    return seen or notified or month_ago


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


async def city_chart(city_id: int, labels: chart.Labels) -> bytes:
    return chart.city_png(await chart.city_history(city_id), labels)
