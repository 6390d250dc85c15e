"""Updates per second through the full stack: `bot.composition.build_app` (middlewares, Redis
FSM and dialog storage, PostgreSQL, the real handlers and dialogs) fed with `feed_update`, and a
bot session that records requests instead of calling Telegram.

Simulated parents, each talking in turn (one user's updates are sequential, as in Telegram),
many at once:
- new parent (50 %): /start, language, "Check the queue" + a child's IIN, "Kindergartens" +
  a search + a card, /start;
- returning parent with an application (30 %): /start, "Personal cabinet", "My applications",
  the application card, "Check the queue" + the child's IIN;
- returning parent without one (20 %): /start, "Join the queue", both consents, the general
  queue, the parent's IIN (step 1; the gov gateway is a stub answering at once).

Figures: `updates_per_s` (one process), `p50_ms`, `p99_ms` per update. Baseline in the same
run: a bare aiogram Dispatcher with MemoryStorage and no-op handlers, fed the same number of
updates at the same concurrency.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)

from bench.common import BenchContext, Result, main_for, percentiles, profiled
from bench.data import populate_city
from core.platform.db import close_db
from core.queue.index import PositionIndex
from indigo.app import build_app, close_app

_ids = itertools.count(1_000)


class RecordingSession(BaseSession):
    """Answers every Bot API call with a plausible result; keeps the last inline keyboard (and
    its message id) each chat was shown, and counts requests."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.keyboards: dict[int, tuple[int, InlineKeyboardMarkup]] = {}
        self.by_method: dict[str, int] = defaultdict(int)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        self.count += 1
        name = method.__api_method__
        self.by_method[name] += 1
        if method.__returning__ is bool or name in {"answerCallbackQuery", "setMyCommands"}:
            return True
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None and name.startswith(("send", "edit", "copy")):
            message_id = getattr(method, "message_id", None) or next(_ids)
            markup = getattr(method, "reply_markup", None)
            if isinstance(markup, InlineKeyboardMarkup):
                self.keyboards[int(chat_id)] = (message_id, markup)
            return Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=Chat(id=int(chat_id), type="private"),
                text=getattr(method, "text", None) or "",
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            ).as_(bot)
        return True

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:
        yield b""

    async def close(self) -> None:
        pass

    def button(self, chat_id: int, suffix: str) -> tuple[int, str] | None:
        """(message id, callback data) of the chat's last inline button whose data ends so."""
        found = self.keyboards.get(chat_id)
        if found is None:
            return None
        message_id, markup = found
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data and button.callback_data.endswith(suffix):
                    return message_id, button.callback_data
        return None

    def first_button(self, chat_id: int, prefix: str) -> tuple[int, str] | None:
        found = self.keyboards.get(chat_id)
        if found is None:
            return None
        message_id, markup = found
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data and prefix in button.callback_data:
                    return message_id, button.callback_data
        return None


class StubGov:
    """The gov gateway answering at once (the benchmark measures our side, not the registry)."""

    async def request_family(self, parent_iin: str) -> str:
        return f"bench-{uuid.uuid4().hex}"

    async def person(self, iin: str) -> None:
        return None

    async def close(self) -> None:
        pass


class Parent:
    def __init__(self, feed: Any, user_id: int, language_code: str | None) -> None:
        self.feed = feed
        self.user = User(id=user_id, is_bot=False, first_name="Parent", language_code=language_code)
        self.chat = Chat(id=user_id, type="private")
        self.latencies: list[float] = []

    def _message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            **fields,
        )

    async def _timed(self, update: Update) -> None:
        started = time.perf_counter()
        await self.feed(update)
        self.latencies.append((time.perf_counter() - started) * 1000)

    async def send(self, text: str) -> None:
        entities = None
        if text.startswith("/"):
            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        await self._timed(
            Update(update_id=next(_ids), message=self._message(text=text, entities=entities))
        )

    async def press(self, data: str, message_id: int | None = None) -> None:
        message = self._message(text="…")
        if message_id is not None:
            message = message.model_copy(update={"message_id": message_id})
        callback = CallbackQuery(
            id=str(next(_ids)), from_user=self.user, chat_instance="ci", data=data, message=message
        )
        await self._timed(Update(update_id=next(_ids), callback_query=callback))


# --- the full stack ------------------------------------------------------------------------


async def _full_stack(ctx: BenchContext, parents: int, concurrency: int) -> dict[str, Any]:
    settings = await ctx.fresh_database("bench_updates", pool=20)
    rng = random.Random(11)
    city = await populate_city(20_000, free_parents=parents, rng=rng)

    flush = aioredis.from_url(ctx.redis_url)
    await flush.flushdb()
    # The queue-position index, built as `indigo migrate` / `indigo seed` do at deploy.

    await PositionIndex(flush).rebuild(grace_s=0)
    await flush.aclose()

    session = RecordingSession()
    app = await build_app(settings, bot_session=session, init_database=False)
    gov = StubGov()
    app.gov = gov  # type: ignore[assignment]
    app.dispatcher.workflow_data["gov"] = gov
    i18n = app.dispatcher.workflow_data["i18n"]

    def label(msgid: str, locale: str) -> str:
        return str(i18n.gettext(msgid, locale=locale))

    async def feed(update: Update) -> None:
        await app.dispatcher.feed_update(app.bot, update)

    missing: dict[str, int] = defaultdict(int)

    async def press(parent: Parent, suffix: str, *, contains: bool = False) -> None:
        chat = parent.chat.id
        found = session.first_button(chat, suffix) if contains else session.button(chat, suffix)
        if found is None:
            missing[suffix] += 1
            return
        await parent.press(found[1], found[0])

    async def new_parent(n: int) -> Parent:
        locale = "kk" if n % 3 == 0 else "ru"
        parent = Parent(feed, 60_000_000 + n, None)
        await parent.send("/start")
        await parent.press(f"lang:{locale}")
        await parent.send(label("Check the queue", locale))
        await parent.send(rng.choice(city.child_iins))
        await parent.send(label("Kindergartens", locale))
        await parent.send(f"№{rng.randrange(1, 13)}")
        await press(parent, "kgc:", contains=True)
        await parent.send("/start")
        return parent

    async def returning_with_application(n: int) -> Parent:
        i = rng.randrange(1, len(city.child_iins) + 1)
        locale = "kk" if i % 3 == 0 else "ru"
        parent = Parent(feed, 10_000_000 + i, locale)
        await parent.send("/start")
        await parent.send(label("Personal cabinet", locale))
        await press(parent, "\x1dapps")
        await press(parent, "\x1dapp:", contains=True)
        await parent.send(label("Check the queue", locale))
        await parent.send(city.child_iins[i - 1])
        return parent

    free = iter(city.free_children)

    async def returning_to_apply(n: int) -> Parent:
        applicant_id, _child = next(free)
        locale = "kk" if applicant_id % 3 == 0 else "ru"
        parent = Parent(feed, 10_000_000 + applicant_id, locale)
        await parent.send("/start")
        await parent.send(label("Join the queue", locale))
        await press(parent, "\x1dconsent_notify", contains=True)  # checkbox data: <id>:0
        await press(parent, "\x1dconsent_offer", contains=True)
        await press(parent, "\x1dq_general")
        await parent.send("900412412345")
        return parent

    kinds = [new_parent] * 5 + [returning_with_application] * 3 + [returning_to_apply] * 2
    gate = asyncio.Semaphore(concurrency)
    errors: list[BaseException] = []

    async def one(n: int) -> Parent | None:
        async with gate:
            try:
                return await kinds[n % len(kinds)](n)
            except Exception as exc:  # a failing flow is reported, the run goes on
                errors.append(exc)
                return None

    # Warm-up: imports, translations, prepared statements, connection pool.
    await asyncio.gather(*(one(n) for n in range(min(40, parents))))
    sent_before = session.count
    started, cpu = time.perf_counter(), time.process_time()
    with profiled("updates"):
        done = await asyncio.gather(*(one(n) for n in range(40, parents + 40)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies = [ms for p in done if p for ms in p.latencies]
    await close_app(app)

    await close_db()
    if errors:
        print(f"updates: {len(errors)} flows failed, first: {errors[0]!r}")
    if missing:
        print(f"updates: buttons not found: {dict(missing)}")
    return {
        "updates": len(latencies),
        "updates_per_s": round(len(latencies) / elapsed, 1),
        **percentiles(latencies),
        # CPU of this process per update: what caps one process, whatever the machine's load.
        "cpu_ms_per_update": round(cpu * 1000 / max(1, len(latencies)), 2),
        "bot_requests_per_update": round((session.count - sent_before) / max(1, len(latencies)), 2),
        "failed_flows": len(errors),
    }


# --- baseline: bare aiogram ----------------------------------------------------------------


async def _baseline(updates: int, concurrency: int) -> dict[str, Any]:
    router = Router()

    @router.message()
    async def on_message(message: Message) -> None:
        return None

    @router.callback_query()
    async def on_callback(callback: CallbackQuery) -> None:
        return None

    dispatcher = Dispatcher(storage=MemoryStorage())
    dispatcher.include_router(router)
    bot = Bot("123456:BASELINE", session=RecordingSession())
    gate = asyncio.Semaphore(concurrency)
    per_parent = 6

    async def parent(n: int) -> Parent:
        async with gate:
            p = Parent(lambda u: dispatcher.feed_update(bot, u), 70_000_000 + n, "ru")
            for step in range(per_parent):
                if step % 3 == 1:
                    await p.press("lang:ru")
                else:
                    await p.send("/start" if step == 0 else "Проверить очередь")
            return p

    await asyncio.gather(*(parent(n) for n in range(50)))
    started, cpu = time.perf_counter(), time.process_time()
    done = await asyncio.gather(*(parent(n) for n in range(updates // per_parent)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies = [ms for p in done for ms in p.latencies]
    figures = percentiles(latencies)
    return {
        "updates_per_s": round(len(latencies) / elapsed, 1),
        "cpu_ms_per_update": round(cpu * 1000 / max(1, len(latencies)), 3),
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
    }


async def run(ctx: BenchContext, quick: bool) -> list[Result]:
    parents, concurrency = (300, 32) if quick else (1500, 64)
    figures = await _full_stack(ctx, parents, concurrency)
    baseline = await _baseline(figures["updates"], concurrency)
    return [
        Result(
            name="updates",
            params={"parents": parents, "concurrency": concurrency},
            figures=figures,
            baseline=baseline,
            target="updates_per_s >= 0.25 x bare aiogram of the same run, p99 <= 50 ms",
        )
    ]


if __name__ == "__main__":
    main_for(run)
