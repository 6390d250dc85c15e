"""Chances of a referral by a date and the typical wait: a Monte Carlo over past seasons.

The method (docs/foresight.md): a queue moves by the referrals given in it and by the
applications that enter ahead (extraordinary benefits, the first-priority interleave). For each
month of a season (September = 0 ... August = 11) the past seasons give how many referrals
were issued and how many applications entered ahead that month. One simulated future draws,
for every coming month, one past season at random and takes that month's two figures: the
place shrinks by the referrals and grows by the entries ahead; the month the place reaches the
referrals given is the month of the referral. `runs` futures give the share that got one by the
deadline (the chance, shown as a band) and the middle half of the waits (the typical wait).
A forecast backed by fewer than `MIN_REFERRALS` past referrals is suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

MIN_REFERRALS = 10
MONTHS = 12
HORIZON_MONTHS = 36  # a wait longer than this is shown as "more than 3 years"
HIGH, MEDIUM = 0.7, 0.3


class Band(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


@dataclass(frozen=True)
class Season:
    """One past season of a queue, month by month from September."""

    referrals: tuple[int, ...]
    entered_ahead: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.referrals) != MONTHS or len(self.entered_ahead) != MONTHS:
            raise ValueError("a season has 12 months")


@dataclass(frozen=True)
class Forecast:
    chance: float  # of a referral by the deadline, 0..1
    band: Band
    wait_low: int | None  # months: the 25th percentile of the wait (None: beyond the horizon)
    wait_high: int | None  # months: the 75th percentile
    backed_by: int  # past referrals the forecast rests on


def band_of(chance: float) -> Band:
    if chance >= HIGH:
        return Band.high
    if chance >= MEDIUM:
        return Band.medium
    return Band.low


def forecast(
    place: int,
    seasons: Sequence[Season],
    *,
    start_month: int,
    deadline_months: int,
    runs: int = 2000,
    seed: int = 0,
) -> Forecast | None:
    """`place`: the current place in the queue; `start_month`: the season month of now
    (0 = September); `deadline_months`: full months until the deadline (1 September: the
    months left of this season). None when suppressed (too few past referrals)."""
    backed = sum(sum(s.referrals) for s in seasons)
    if not seasons or backed < MIN_REFERRALS:
        return None
    waits = simulate(place, seasons, start_month=start_month, runs=runs, seed=seed)
    chance = float(np.mean(waits <= deadline_months))
    low, high = np.percentile(waits, [25, 75], method="nearest")
    return Forecast(
        chance=chance,
        band=band_of(chance),
        wait_low=None if low > HORIZON_MONTHS else int(low),
        wait_high=None if high > HORIZON_MONTHS else int(high),
        backed_by=backed,
    )


def simulate(
    place: int, seasons: Sequence[Season], *, start_month: int, runs: int, seed: int
) -> np.ndarray:
    """The simulated waits in months (1 = this month; HORIZON_MONTHS + 1 = not within it)."""
    rng = np.random.default_rng(seed)
    referrals = np.array([s.referrals for s in seasons], dtype=np.int64)
    entered = np.array([s.entered_ahead for s in seasons], dtype=np.int64)
    remaining = np.full(runs, max(place, 1), dtype=np.int64)
    waits = np.full(runs, HORIZON_MONTHS + 1, dtype=np.int64)
    for step in range(HORIZON_MONTHS):
        month = (start_month + step) % MONTHS
        drawn = rng.integers(0, len(seasons), size=runs)
        waiting = waits > HORIZON_MONTHS
        served = referrals[drawn, month]
        got = waiting & (remaining <= served)
        waits[got] = step + 1
        remaining = np.where(waiting & ~got, remaining - served + entered[drawn, month], remaining)
        remaining = np.maximum(remaining, 1)
    return waits
