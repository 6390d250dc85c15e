"""Seeded demo data looks like a real queue this season: it survives the annual cleaning and its
names are distinct and language-neutral."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.applications.extension import annual_cleaning
from core.models import Application, ApplicationStatus, ExtensionAnswers, Group, Kindergarten
from core.platform import clock
from devtools.seed import SeedSize, seed

SMALL = SeedSize(kindergartens=12, applications=900, random_seed=7)


@pytest.mark.parametrize(
    "today",
    [datetime(2026, 11, 21, 9, 0, tzinfo=UTC), datetime(2027, 10, 2, 9, 0, tzinfo=UTC)],
    ids=["november", "day-after-deadline"],
)
async def test_seeded_queue_survives_the_annual_cleaning(db: None, settings, today) -> None:
    """The demo ran the annual cleaning at start and ~80% of the seeded queue went to the
    stop-list: seeded applications must look extended this season."""
    with clock.travel(today - clock.now()):
        await seed(settings, SMALL)
        stop_listed_before = await Application.filter(status=ApplicationStatus.stop_listed).count()
        local_today = clock.now().astimezone(settings.tz).date()
        cleaned = await annual_cleaning(settings, local_today)
    assert cleaned < 900 * 0.05
    # A small share was already stop-listed for not extending; the rest are in the queue.
    assert 900 * 0.01 < stop_listed_before < 900 * 0.06
    assert await ExtensionAnswers.filter(season=today.year).count() > 300
    assert not await Application.filter(
        status=ApplicationStatus.active, valid_until__lte=local_today
    ).exists()


async def test_seeded_names_are_distinct_and_language_neutral(db: None, settings) -> None:
    await seed(settings, SMALL)
    names_ru = await Kindergarten.all().values_list("name_ru", flat=True)
    names_kk = await Kindergarten.all().values_list("name_kk", flat=True)
    assert len(set(names_ru)) == len(names_ru) and len(set(names_kk)) == len(names_kk)
    for name in await Group.all().values_list("name", flat=True):
        assert name.startswith("№") and len(name) <= 4, name
