"""The Redis position index gives the same places as the COUNT queries (PostgreSQL)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from aiogram import Router
from aiogram.filters import Command

from core.applications.lifecycle import restore, withdraw
from core.applications.submission import SubmissionInput, submit
from core.models import Application, ApplicationStatus, Language, QueueType, Stream
from core.platform import clock
from core.queue.index import PositionIndex, index_for, sync_changed
from core.queue.order import city_position, kindergarten_positions, sync_choices
from indigo.app import build_app, close_app
from tests.fixtures.bot import Chatter, RecordingSession
from tests.fixtures.queue import (
    T0,
    make_application,
    make_child,
    make_city,
    make_kindergarten,
    make_parent,
)


async def assert_index_equals_count(settings, redis, apps: list[Application]) -> int:
    """Every non-archived application: the index's places (city and each kindergarten) are the
    COUNT queries' places; returns how many positions the index answered itself."""
    index = index_for(redis)
    ratio = settings.first_priority_ratio
    answered = 0
    for app in apps:
        app = await Application.get(id=app.id)
        if app.status == ApplicationStatus.archived:
            continue
        counted = await city_position(app, settings)
        assert await city_position(app, settings, index=redis) == counted, app.number
        assert await index.city_position(app, ratio) == counted, app.number
        counted_kg = await kindergarten_positions(app, settings)
        assert await kindergarten_positions(app, settings, index=redis) == counted_kg
        assert await index.kindergarten_positions(app, [c for c, _ in counted_kg], ratio) == [
            p for _, p in counted_kg
        ]
        answered += 1
    return answered


async def test_index_places_equal_count_places_for_a_random_cohort(db, redis, settings) -> None:
    rnd = random.Random(11)
    city = await make_city()
    kgs = [await make_kindergarten(city, n) for n in (1, 2, 3)]
    parent = await make_parent()
    apps = []
    for n in range(80):
        child = await make_child(parent, date(2021 + n % 2, 1 + n % 12, 1))
        choices = [
            (kg, rnd.choice([Language.kk, Language.ru]))
            for kg in rnd.sample(kgs, rnd.randint(0, 3))
        ]
        apps.append(
            await make_application(
                applicant=parent,
                child=child,
                city=city,
                stream=rnd.choices(list(Stream), weights=[1, 3, 8])[0],
                # Ties on the submission time: the number decides.
                submitted_at=T0 + timedelta(minutes=rnd.randint(0, 15)),
                number=9000 - n,
                status=rnd.choices(list(ApplicationStatus), weights=[8, 1, 1])[0],
                choices=choices,
            )
        )
    assert not await PositionIndex(redis).ready()
    assert await PositionIndex(redis).rebuild(grace_s=0) == sum(
        a.status == ApplicationStatus.active for a in apps
    )
    assert await assert_index_equals_count(settings, redis, apps) > 60

    # A stop-listing done elsewhere (sync_choices in its transaction, sync after the commit).
    target = next(a for a in apps if a.status == ApplicationStatus.active)
    await Application.filter(id=target.id).update(status=ApplicationStatus.stop_listed)
    target.status = ApplicationStatus.stop_listed
    await sync_choices(target)
    await sync_changed(redis)
    await assert_index_equals_count(settings, redis, apps)


async def test_index_follows_submit_withdraw_and_restore(db, redis, settings) -> None:
    city = await make_city()
    kg1 = await make_kindergarten(city, 1, languages="kk,ru")
    kg2 = await make_kindergarten(city, 2, languages="kk")
    parent = await make_parent(telegram_user_id=501)
    await PositionIndex(redis).rebuild(grace_s=0)  # empty, but built

    apps = []
    for n in range(6):
        child = await make_child(parent, date(2021, 1 + n, 1))
        data = SubmissionInput(
            applicant_id=parent.id,
            child_id=child.id,
            city_id=city.id,
            queue_type=QueueType.general,
            choices=[(kg1.id, Language.ru if n % 2 else Language.kk), (kg2.id, Language.kk)],
            legal_representative=True,
        )
        apps.append(await submit(data, settings=settings, actor="t", index=redis))
    assert await assert_index_equals_count(settings, redis, apps) == 6
    second = apps[1]
    assert (await city_position(second, settings, index=redis)).place == 2

    await withdraw(apps[0].id, parent.id, actor="t", index=redis)
    assert (await city_position(second, settings, index=redis)).place == 1
    await assert_index_equals_count(settings, redis, apps)

    # Stop-listed by the system, then restored by the parent at its original time.
    third = await Application.get(id=apps[2].id)
    third.status = ApplicationStatus.stop_listed
    third.stop_listed_until = clock.now() - timedelta(days=1)
    await third.save()
    await sync_choices(third)
    await sync_changed(redis)
    assert (await city_position(apps[3], settings, index=redis)).place == 2
    await assert_index_equals_count(settings, redis, apps)

    await restore(third.id, parent.id, actor="t", settings=settings, index=redis)
    assert (await city_position(apps[3], settings, index=redis)).place == 3
    await assert_index_equals_count(settings, redis, apps)


async def test_an_index_not_built_falls_back_to_count_and_is_rebuilt(db, redis, settings) -> None:
    city = await make_city()
    parent = await make_parent()
    app = await make_application(
        applicant=parent, child=await make_child(parent), city=city, number=5
    )
    index = PositionIndex(redis)
    assert await index.city_position(app, settings.first_priority_ratio) is None
    assert (await city_position(app, settings, index=index)).place == 1
    # The reader started a rebuild in the background; once done, the index answers.
    assert await index.rebuild(grace_s=0) in (None, 1)
    for _ in range(50):
        if await index.ready():
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert (await index.city_position(app, settings.first_priority_ratio)).place == 1


async def test_a_change_made_in_any_bot_handler_reaches_the_index(db, redis, settings) -> None:
    """The update middleware applies what a handler changed, even if the handler passed no
    index (a cabinet withdraw, a referral decline ...)."""
    city = await make_city()
    kg = await make_kindergarten(city, 1, languages="kk,ru")
    parent = await make_parent(telegram_user_id=502)
    apps = [
        await make_application(
            applicant=parent,
            child=await make_child(parent, date(2021, 1 + n, 1)),
            city=city,
            submitted_at=T0 + timedelta(days=n),
            choices=[(kg, Language.kk)],
        )
        for n in range(3)
    ]
    await PositionIndex(redis).rebuild(grace_s=0)
    assert (await city_position(apps[2], settings, index=redis)).place == 3

    session = RecordingSession()
    app = await build_app(settings, bot_session=session, init_database=False)
    probe = Router(name="probe")

    @probe.message(Command("withdraw_first"))
    async def withdraw_first(message) -> None:  # type: ignore[no-untyped-def]
        await withdraw(apps[0].id, parent.id, actor="t")  # no index passed on purpose

    app.dispatcher.include_router(probe)
    app.dispatcher.sub_routers.insert(0, app.dispatcher.sub_routers.pop())  # before fallbacks
    try:
        await Chatter(app, session, 502, "ru").send("/withdraw_first")
    finally:
        await close_app(app)
    assert (await Application.get(id=apps[0].id)).status == ApplicationStatus.archived
    assert (await city_position(apps[2], settings, index=redis)).place == 2
    await assert_index_equals_count(settings, redis, apps)
