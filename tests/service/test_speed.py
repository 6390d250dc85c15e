"""The speed levers of issue 16 change nothing a parent sees (PostgreSQL and Redis, real)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.types import Update, User

from bot.middlewares.applicant import applicant_of
from bot.storage import UpdateMemory, UpdateScopedRedisStorage
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
    assert len(columns) == 12
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


async def _sets_and_dels(redis: Any) -> int:
    stats = await redis.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("set", "del"))


async def _in_one_update(work: Callable[[], Awaitable[Any]]) -> Any:
    async def handler(event: Any, data: dict[str, Any]) -> Any:
        return await work()

    return await UpdateMemory()(handler, Update(update_id=1), {})


async def test_each_update_reads_the_conversation_as_redis_holds_it(redis) -> None:
    storage = UpdateScopedRedisStorage(redis, key_builder=DefaultKeyBuilder(with_destiny=True))
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    other = StorageKey(bot_id=1, chat_id=5, user_id=5, destiny="aiogd:stack:")

    async def first() -> None:
        assert await storage.get_state(key) is None
        await storage.set_state(key, "Wizard:step")
        assert await storage.get_state(key) == "Wizard:step"
        await storage.set_data(other, {"intents": ["a"]})
        assert await storage.get_data(other) == {"intents": ["a"]}

    await _in_one_update(first)
    state_key = storage.key_builder.build(key, "state")
    assert await redis.get(state_key) == b"Wizard:step"
    # Another process moves the conversation on between two updates of this one.
    await redis.set(state_key, "Wizard:other")

    async def second() -> None:
        assert await storage.get_state(key) == "Wizard:other"
        assert await storage.get_data(other) == {"intents": ["a"]}
        await storage.set_data(other, {})
        assert await storage.get_data(other) == {}

    await _in_one_update(second)
    assert await redis.exists(storage.key_builder.build(other, "data")) == 0


async def test_an_unchanged_conversation_is_not_written_again(redis) -> None:
    storage = UpdateScopedRedisStorage(redis, key_builder=DefaultKeyBuilder(with_destiny=True))
    key = StorageKey(bot_id=1, chat_id=6, user_id=6, destiny="aiogd:stack:")
    await storage.set_data(key, {"intents": ["a"]})  # outside an update: always written

    async def unchanged() -> None:
        data = await storage.get_data(key)
        await storage.set_data(key, data)  # what aiogram-dialog does after every update
        await storage.set_data(StorageKey(bot_id=1, chat_id=6, user_id=6, destiny="x"), {})

    before = await _sets_and_dels(redis)
    await _in_one_update(unchanged)
    assert await _sets_and_dels(redis) == before + 1  # only the DEL of the unread key

    async def changed() -> None:
        await storage.set_data(key, {"intents": ["a", "b"]})

    await _in_one_update(changed)
    assert await storage.get_data(key) == {"intents": ["a", "b"]}
