"""Position-change notifications: one ordered pass per cohort, step, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import Application, ApplicationStatus, Language, Notification, Stream
from core.platform import clock
from core.queue.order import city_position
from core.queue.watch import notify_position_changes
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_city,
    make_kindergarten,
)


@pytest.fixture
async def cohort(db):
    """25 applications of one cohort: 3 extraordinary, 6 first-priority, 16 general."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    start = clock.now() - timedelta(days=300)
    apps = []
    streams = [Stream.extraordinary] * 3 + [Stream.first_priority] * 6 + [Stream.general] * 16
    for i, stream in enumerate(streams):
        apps.append(
            await make_application(
                city=city,
                choices=[(kindergarten, Language.ru)],
                stream=stream,
                submitted_at=start + timedelta(hours=i),
            )
        )
    # Another cohort (a younger birth year) that must be counted on its own.
    for i in range(3):
        await make_application(
            city=city,
            choices=[(kindergarten, Language.ru)],
            born=clock.now().date().replace(year=cohort_year(2), month=1, day=10),
            submitted_at=start + timedelta(hours=i),
        )
    return city, kindergarten, apps


async def _notified() -> dict[int, dict]:
    rows = await Notification.filter(kind="position_changed").values_list("params", flat=True)
    return {p["application_id"]: p for p in rows}


@pytest.mark.parametrize("batch", [1000, 4])
async def test_positions_are_recorded_silently_first_then_big_moves_notified(
    cohort, settings, batch
):
    city, kindergarten, apps = cohort
    assert await notify_position_changes(settings, batch=batch) == 0
    assert await _notified() == {}
    # Every recorded place is the one the queue engine computes for that application.
    for app in await Application.all():
        assert app.last_notified_position == (await city_position(app, settings)).place

    # 10 older extraordinary applications come back from the stop-list at their original
    # time, ahead of everyone: everybody moves back by 10 (= the step).
    start = clock.now() - timedelta(days=400)
    for i in range(10):
        await make_application(
            city=city,
            choices=[(kindergarten, Language.ru)],
            stream=Stream.extraordinary,
            submitted_at=start + timedelta(minutes=i),
        )
    settings = settings.model_copy(update={"position_notify_step": 10})

    sent = await notify_position_changes(settings, batch=batch)

    notified = await _notified()
    assert sent == len(apps) == len(notified)
    for app in apps:
        fresh = await Application.get(id=app.id)
        place = (await city_position(fresh, settings)).place
        params = notified[app.id]
        assert params["number"] == app.number
        assert params["new"] == place == params["old"] + 10 == fresh.last_notified_position
    # Running again changes nothing and sends nothing.
    assert await notify_position_changes(settings, batch=batch) == 0
    assert len(await _notified()) == len(apps)


async def test_moves_smaller_than_the_step_are_not_notified(cohort, settings):
    _city, _kindergarten, apps = cohort
    await notify_position_changes(settings)
    # The first application leaves (withdrawn): everybody moves up by one.
    await Application.filter(id=apps[0].id).update(status=ApplicationStatus.archived)

    small = settings.model_copy(update={"position_notify_step": 2})
    assert await notify_position_changes(small) == 0
    one = settings.model_copy(update={"position_notify_step": 1})
    assert await notify_position_changes(one) == len(apps) - 1
    moved = await _notified()
    assert apps[0].id not in moved
    assert all(p["old"] - p["new"] == 1 for p in moved.values())
