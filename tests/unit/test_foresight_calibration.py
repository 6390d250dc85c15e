"""Calibration on a simulated history: of the parents told "high", "medium" or "low", about
as many get a referral by 1 September as the band says."""

from __future__ import annotations

import numpy as np

from core.foresight.odds import HIGH, MEDIUM, Band, Season, forecast

SEASON_SHAPE = np.array([6, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 8], dtype=float)  # Sep..Aug


def _world(rng: np.random.Generator, scale: float) -> tuple[np.ndarray, np.ndarray]:
    return SEASON_SHAPE * scale, np.full(12, 0.4 * scale)


def _season(rng: np.random.Generator, rates: tuple[np.ndarray, np.ndarray]) -> Season:
    return Season(
        tuple(int(x) for x in rng.poisson(rates[0])), tuple(int(x) for x in rng.poisson(rates[1]))
    )


def _outcome(
    rng: np.random.Generator, place: int, rates: tuple[np.ndarray, np.ndarray], start: int
) -> bool:
    remaining = place
    for month in range(start, 12):
        served = int(rng.poisson(rates[0][month]))
        if remaining <= served:
            return True
        remaining = max(1, remaining - served + int(rng.poisson(rates[1][month])))
    return False


def calibration_table(parents: int = 300, seed: int = 17) -> dict[Band, tuple[int, float, float]]:
    """band -> (parents, mean predicted chance, share that got a referral)."""
    rng = np.random.default_rng(seed)
    told: dict[Band, list[tuple[float, bool]]] = {b: [] for b in Band}
    for k in range(parents):
        rates = _world(rng, scale=float(rng.uniform(0.5, 3.0)))
        history = [_season(rng, rates) for _ in range(3)]
        start = int(rng.integers(0, 11))
        # places around what the rest of the season serves, so all three bands occur
        served = float(rates[0][start:].sum() - rates[1][start:].sum())
        place = 1 + int(max(0.0, served) * rng.uniform(0.2, 2.0))
        f = forecast(
            place, history, start_month=start, deadline_months=12 - start, runs=300, seed=k
        )
        if f is None:
            continue
        told[f.band].append((f.chance, _outcome(rng, place, rates, start)))
    return {
        band: (
            len(rows),
            float(np.mean([r[0] for r in rows])),
            float(np.mean([r[1] for r in rows])),
        )
        for band, rows in told.items()
        if rows
    }


def test_predicted_bands_match_the_outcomes_of_a_simulated_history() -> None:
    table = calibration_table()
    assert set(table) == set(Band)
    for band, (n, predicted, observed) in table.items():
        assert n >= 25, band
        assert abs(predicted - observed) < 0.12, (band, predicted, observed)
    assert table[Band.high][2] >= HIGH - 0.1
    assert MEDIUM - 0.1 <= table[Band.medium][2] <= HIGH + 0.1
    assert table[Band.low][2] < MEDIUM


def test_a_forecast_backed_by_fewer_than_ten_referrals_is_not_shown() -> None:
    thin = Season((3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6), (0,) * 12)
    assert forecast(2, [thin], start_month=0, deadline_months=12) is None
    assert forecast(2, [thin, thin], start_month=0, deadline_months=12) is not None


if __name__ == "__main__":  # the calibration table for the report
    for band, (n, predicted, observed) in calibration_table().items():
        print(f"{band:7} parents={n:4} predicted={predicted:.2f} observed={observed:.2f}")
