"""The speed levers of issue 16 change nothing a parent sees (PostgreSQL and Redis, real)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from aiogram.types import User

from bot.middlewares.applicant import applicant_of
from core.models import Applicant, Application, ApplicationChoice, Language
from core.queue.index import PREFIX, PositionIndex, member, score, sync_changed
from core.queue.order import sync_choices
from indigo.app import json_dumps
from tests.fixtures.queue import (
    T0,
    make_application,
    make_child,
    make_city,
    make_kindergarten,
    make_parent,
)
from tests.service.test_position_index import assert_index_equals_count


class ChangedWhileRebuilding(PositionIndex):
    """A rebuild during which a parent changes a kindergarten twice: once after the rebuild
    read the application (so what it writes is stale) and once after that was written."""

    changes: list[tuple[int, int]]

    async def _send_packed(self, packed: bytes, replies: int) -> None:
        if not self.changes:  # the rebuild's other writes
            return await super()._send_packed(packed, replies)
        await self._change()
        await super()._send_packed(packed, replies)
        await self._change()

    async def _change(self) -> None:
        application_id, kindergarten_id = self.changes.pop(0)
        await ApplicationChoice.filter(application_id=application_id).update(
            kindergarten_id=kindergarten_id
        )
        await sync_choices(await _application(application_id))
        await sync_changed(self.redis)


async def _application(application_id: int) -> Application:
    return await Application.get(id=application_id)


async def test_an_application_moved_during_a_rebuild_is_counted_only_where_it_is_now(
    db, redis, settings
) -> None:
    city = await make_city()
    kg1, kg2, kg3 = [await make_kindergarten(city, n) for n in (1, 2, 3)]
    parent = await make_parent()
    apps = []
    for n in range(6):
        child = await make_child(parent, date(2021, 1 + n, 1))
        kg = (kg1, kg2, kg3)[n % 3]
        apps.append(
            await make_application(
                applicant=parent,
                child=child,
                city=city,
                submitted_at=T0 + timedelta(minutes=n),
                choices=[(kg, Language.ru)],
            )
        )
    await PositionIndex(redis).rebuild(grace_s=0)
    moved = apps[0]  # in kg1; moves to kg2 while the rebuild reads, then to kg3
    index = ChangedWhileRebuilding(redis)
    index.changes = [(moved.id, kg2.id), (moved.id, kg3.id)]
    assert await index.rebuild(grace_s=0) == 6

    assert await assert_index_equals_count(settings, redis, apps) == 6
    # Counted once, in kg3 only: kg1 and kg2 count their other applications alone.
    for other, total in ((apps[3], 1), (apps[4], 2)):
        choices = list(await ApplicationChoice.filter(application_id=other.id))
        places = await PositionIndex(redis).kindergarten_positions(other, choices, 1)
        assert places is not None and places[0].total == total
    moved_choices = list(await ApplicationChoice.filter(application_id=moved.id))
    assert [c.kindergarten_id for c in moved_choices] == [kg3.id]
    places = await PositionIndex(redis).kindergarten_positions(
        await _application(moved.id), moved_choices, 1
    )
    assert places is not None and places[0].total == 3


async def test_a_rebuild_places_each_application_where_a_move_would(db, redis) -> None:
    city = await make_city()
    kg1, kg2 = [await make_kindergarten(city, n) for n in (1, 2)]
    parent = await make_parent()
    rng = random.Random(16)
    apps = []
    for n in range(30):  # times to the microsecond, as parents submit
        at = T0 + timedelta(
            days=rng.randrange(2000),
            seconds=rng.randrange(86400),
            microseconds=rng.randrange(1_000_000),
        )
        apps.append(
            await make_application(
                applicant=parent,
                child=await make_child(parent, date(2021, 1 + n % 12, 1 + n % 28)),
                city=city,
                submitted_at=at,
                choices=[(kg1, Language.ru), (kg2, Language.kk)][: 1 + n % 2],
            )
        )
    index = PositionIndex(redis)
    assert await index.rebuild(grace_s=0) == 30

    gen = await index.generation()
    assert gen is not None
    for app in apps:
        choices = await ApplicationChoice.filter(application_id=app.id).order_by("rank")
        suffixes = PositionIndex._suffixes(app, choices)  # what a move (`sync`) writes
        for suffix in suffixes:
            at = await redis.zscore(f"{PREFIX}:{gen}:{suffix}", member(app.number))
            assert at == score(app.submitted_at)
        built = await redis.hget(f"{PREFIX}:{gen}:built", str(app.id))
        assert built.decode() == "|".join(suffixes)


async def test_the_applicant_read_for_each_update_is_the_one_the_orm_reads(db) -> None:
    parent = await make_parent(telegram_user_id=7001)
    await Applicant.filter(id=parent.id).update(chat_id=7001, consent_offer=True)
    user = User(id=7001, is_bot=False, first_name="A", language_code="kk")

    fast = await applicant_of(user, 7001)
    orm = await Applicant.get(id=parent.id)
    columns = list(orm._meta.fields_db_projection)  # every stored field
    assert len(columns) == 11
    assert {f: getattr(fast, f) for f in columns} == {f: getattr(orm, f) for f in columns}
    fast.email = "saved@example.kz"  # a model like any other: it saves
    await fast.save(update_fields=["email"])
    assert (await Applicant.get(id=parent.id)).email == "saved@example.kz"

    # A chat that changed is kept current; a first contact creates the applicant.
    assert (await applicant_of(user, 9001)).chat_id == 9001
    assert (await Applicant.get(id=parent.id)).chat_id == 9001
    newcomer = await applicant_of(User(id=7002, is_bot=False, first_name="B"), 7002)
    assert newcomer.telegram_user_id == 7002 and newcomer.chat_id == 7002


def test_stored_conversation_data_survives_the_fast_json() -> None:
    data = {"n": 1, 2: "int key", "nested": [1.5, None, True, "Әлия"], "big": 2**70}
    assert json_dumps(data) in (
        '{"n":1,"2":"int key","nested":[1.5,null,true,"Әлия"],"big":1180591620717411303424}',
        '{"n": 1, "2": "int key", "nested": [1.5, null, true, "\\u04d8\\u043b\\u0438\\u044f"], '
        '"big": 1180591620717411303424}',
    )
