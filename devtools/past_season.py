"""The demo city's past seasons (issue 17): month by month since 1 September three seasons ago,
seats freed in the kindergartens' general groups went to the heads of their queues, who took
the referral and enrolled. The forecasts, the "why did my place move" explanation and the
charts then have a history to read.

A simulation, not the service's distribution: each group frees seats in a month with a
seasonal shape (most in September and August), a kindergarten in proportion to how many
applications chose it (the queues are longest where kindergartens are biggest), the whole
history about a quarter of the city's applications. A group of age `a` took then the cohort that
was `a` years old: born as many years before the group's birth year as seasons back. Its queue
head is the earliest active application choosing the kindergarten and language, extraordinary
first, then first-priority, then general (the interleave is left out), submitted before the
referral. A separate random stream keeps the rest of the seeded city as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import (
    ApplicationStatus,
    ArchiveReason,
    Group,
    GroupKind,
    Kindergarten,
    Referral,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
)
from core.platform.counters import ensure_counter_at_least
from core.platform.settings import Settings

SHARE = 0.25  # of the city's applications enrolled over the simulated months
SEASONS_BACK = 3
# September .. August: most seats free at the start and the end of a season
SHAPE = (3.0, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.6, 2.0)
NUMBER_PREFIX = "NP"

Insert = Callable[[Any, list[dict[str, Any]], BaseDBAsyncClient, datetime], Awaitable[None]]
NextId = Callable[[Any, BaseDBAsyncClient], Awaitable[int]]


@dataclass
class PastSeason:
    settings: Settings
    now: datetime
    random_seed: int
    releases: list[dict[str, Any]] = field(default_factory=list)
    seats: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    _picks: list[tuple[Group, datetime, int]] = field(default_factory=list)

    def months(self) -> list[datetime]:
        """The first day of every month from 1 September `SEASONS_BACK` seasons ago to the
        last full month."""
        today = self.now.date()
        season = today.year if today.month >= 9 else today.year - 1
        year, month = season - SEASONS_BACK, 9
        out = []
        while (year, month) < (today.year, today.month):
            out.append(datetime(year, month, 1, tzinfo=UTC))
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        return out

    def simulate(
        self,
        groups: list[Group],
        rows: list[dict[str, Any]],
        choices: list[dict[str, Any]],
        kindergartens: Mapping[int, Kindergarten],
    ) -> PastSeason:
        """Mark the applications that enrolled (rows and choices, in place) and keep the
        releases, seats and referrals to insert."""
        rng = np.random.default_rng(self.random_seed * 104_729 + 17)
        months = self.months()
        if not months or not rows:
            return self
        by_id = {row["id"]: row for row in rows}
        # the queue of each (kindergarten, language, birth year): its choices
        queues: dict[tuple[int, str, int], list[dict[str, Any]]] = {}
        for choice in choices:
            key = (choice["kindergarten_id"], str(choice["language"]), choice["birth_year"])
            queues.setdefault(key, []).append(choice)
        for queue in queues.values():
            queue.sort(key=lambda c: (int(c["stream"]), c["submitted_at"], c["number"]))
        chosen = {kg: 0 for kg in kindergartens}
        for choice in choices:
            chosen[choice["kindergarten_id"]] = chosen.get(choice["kindergarten_id"], 0) + 1
        general = [g for g in groups if g.kind == GroupKind.general and g.last_birth_year is None]
        groups_of: dict[int, int] = {}
        for g in general:
            groups_of[g.kindergarten_id] = groups_of.get(g.kindergarten_id, 0) + 1
        weight_total = sum(SHAPE[(m.month - 9) % 12] for m in months)
        budget = SHARE * len(rows)
        taken: set[int] = set()
        today_season = self._season(self.now)
        for month in months:
            shape = SHAPE[(month.month - 9) % 12] / weight_total
            back = today_season - self._season(month)
            for g in general:
                share = chosen.get(g.kindergarten_id, 0) / max(1, len(choices))
                rate = budget * shape * share / max(1, groups_of[g.kindergarten_id])
                seats = int(rng.poisson(rate))
                if not seats:
                    continue
                at = month + timedelta(days=int(rng.integers(0, 20)), hours=5)
                key = (g.kindergarten_id, str(g.language), g.birth_year - back)
                for choice in queues.get(key, []):
                    if seats == 0:
                        break
                    app = by_id[choice["application_id"]]
                    if (
                        app["id"] in taken
                        or app["status"] != ApplicationStatus.active
                        or app["submitted_at"] >= at
                    ):
                        continue
                    taken.add(app["id"])
                    self._picks.append((g, at, app["id"]))
                    seats -= 1
        for _, _, app_id in self._picks:
            app = by_id[app_id]
            app["status"] = ApplicationStatus.archived
            app["archive_reason"] = ArchiveReason.enrolled
        for choice in choices:
            if choice["application_id"] in taken:
                choice["active"] = False
        return self

    async def insert(self, conn: BaseDBAsyncClient, insert: Insert, next_id: NextId) -> int:
        """Insert the releases, seats and referrals (after the applications)."""
        if not self._picks:
            return 0
        release_id = await next_id(SeatRelease, conn)
        seat_id = await next_id(Seat, conn)
        referral_id = await next_id(Referral, conn)
        serial = 0
        for group, at, app_id in sorted(self._picks, key=lambda p: (p[1], p[2])):
            serial += 1
            self.releases.append(
                {
                    "id": release_id,
                    "group_id": group.id,
                    "kindergarten_id": group.kindergarten_id,
                    "seats": 1,
                    "priority_end_at": at + timedelta(days=1),
                    "released_by": "seed",
                    "created_at": at,
                }
            )
            self.seats.append(
                {
                    "id": seat_id,
                    "release_id": release_id,
                    "group_id": group.id,
                    "status": SeatStatus.taken,
                    "priority_end_at": at + timedelta(days=1),
                    "taken_at": at + timedelta(hours=2),
                }
            )
            self.referrals.append(
                {
                    "id": referral_id,
                    "number": f"{NUMBER_PREFIX}-{at.year}-{serial:06d}",
                    "application_id": app_id,
                    "seat_id": seat_id,
                    "group_id": group.id,
                    "kindergarten_id": group.kindergarten_id,
                    "status": ReferralStatus.enrolled,
                    "issued_at": at + timedelta(hours=2),
                    "expires_at": at + timedelta(days=7),
                    "closed_at": at + timedelta(days=3),
                    "close_reason": "enrolled",
                }
            )
            release_id += 1
            seat_id += 1
            referral_id += 1
        await insert(SeatRelease, self.releases, conn, self.now)
        await insert(Seat, self.seats, conn, self.now)
        await insert(Referral, self.referrals, conn, self.now)
        await ensure_counter_at_least("referral", serial, conn=conn, first=1)
        return serial

    @staticmethod
    def _season(at: datetime) -> int:
        return at.year if at.month >= 9 else at.year - 1
