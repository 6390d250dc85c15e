"""Pictures of the queue as PNG bytes (matplotlib, Agg backend: no display needed).

`position_history` / `city_history` read the figures (the audit log through
`core.foresight.history`, referrals and registrations by month); `position_png` / `city_png`
draw them with labels the caller gives in the reader's language.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.foresight.explain import ahead_of
from core.foresight.history import Cohort, member_of, snapshots
from core.models import Application, Referral
from core.platform import clock
from core.platform.settings import Settings


@dataclass(frozen=True)
class Point:
    day: date
    place: int | None  # the parent's place (None: not in the queue yet; 0 for city charts)
    queued: int  # active applications of the cohort (or city)
    referrals: int  # referrals issued in the month ending here
    registered: int = 0  # applications submitted in the month ending here


@dataclass(frozen=True)
class Labels:
    title: str
    place: str
    queued: str
    referrals: str
    registered: str = ""


def month_starts(today: date, months: int) -> list[datetime]:
    """The first day of each of the last `months` months, then now's month start."""
    out = []
    year, month = today.year, today.month
    for _ in range(months):
        out.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(out)


async def position_history(app: Application, settings: Settings, months: int = 12) -> list[Point]:
    """The application's city place and its cohort at the start of each month, and now."""
    now = clock.now()
    moments = [*month_starts(now.date(), months), now]
    snaps = await snapshots(Cohort.of(app), moments)
    issued: list[datetime] = await Referral.filter(  # type: ignore[assignment]
        application__city_id=app.city_id,
        application__birth_year=app.birth_year,
        application__queue_type=app.queue_type,
        issued_at__gte=moments[0],
    ).values_list("issued_at", flat=True)
    points = []
    previous: datetime | None = None
    for moment, snap in zip(moments, snaps, strict=True):
        place = (
            len(ahead_of(member_of(snap, app), snap, settings.first_priority_ratio)) + 1
            if moment >= app.submitted_at
            else None
        )
        given = sum(1 for at in issued if previous is not None and previous <= at < moment)
        points.append(Point(moment.date(), place, len(snap.active), given))
        previous = moment
    return points


async def city_history(city_id: int | None, months: int = 12) -> list[Point]:
    """Per month: referrals issued and applications submitted in the city (None: every city)."""
    now = clock.now()
    moments = [*month_starts(now.date(), months), now]
    referrals = Referral.filter(issued_at__gte=moments[0])
    applications = Application.filter(submitted_at__gte=moments[0])
    if city_id is not None:
        referrals = referrals.filter(application__city_id=city_id)
        applications = applications.filter(city_id=city_id)
    issued: list[datetime] = await referrals.values_list(  # type: ignore[assignment]
        "issued_at", flat=True
    )
    submitted: list[datetime] = await applications.values_list(  # type: ignore[assignment]
        "submitted_at", flat=True
    )
    points = []
    for start, end in itertools.pairwise(moments):
        given = sum(1 for at in issued if start <= at < end)
        came = sum(1 for at in submitted if start <= at < end)
        points.append(Point(start.date(), 0, 0, given, came))
    return points


def position_png(points: list[Point], labels: Labels) -> bytes:
    """The parent's place over time (line) over the cohort's referrals per month (bars)."""
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    days = list(range(len(points)))
    placed = [(d, p.place) for d, p in zip(days, points, strict=True) if p.place is not None]
    ax.plot(
        [d for d, _ in placed],
        [place for _, place in placed],
        marker="o",
        color="tab:blue",
        label=labels.place,
    )
    ax.invert_yaxis()  # nearer the front is higher
    ax.set_ylabel(labels.place)
    ax.set_title(labels.title)
    bars = ax.twinx()
    bars.bar(
        days,
        [p.referrals for p in points],
        width=0.6,
        alpha=0.3,
        color="tab:green",
        label=labels.referrals,
    )
    bars.set_ylabel(labels.referrals)
    lines = ax.get_legend_handles_labels()
    more = bars.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    _dates(ax, points)
    return _png(fig)


def city_png(points: list[Point], labels: Labels) -> bytes:
    """The city's registrations and referrals per month."""
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    days = list(range(len(points)))
    ax.plot(days, [p.registered for p in points], marker="o", label=labels.registered)
    ax.bar(
        days,
        [p.referrals for p in points],
        width=0.6,
        alpha=0.4,
        color="tab:green",
        label=labels.referrals,
    )
    ax.set_title(labels.title)
    ax.legend(loc="upper left", fontsize=8)
    _dates(ax, points)
    return _png(fig)


def _dates(ax: Any, points: list[Point]) -> None:
    """Months as numbers (MM.YYYY): the same in Kazakh and Russian."""
    ax.set_xticks(range(len(points)))
    ax.set_xticklabels([p.day.strftime("%m.%Y") for p in points], rotation=45, fontsize=8)
    ax.figure.tight_layout()


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)  # the Agg canvas: no display, no global pyplot state
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
