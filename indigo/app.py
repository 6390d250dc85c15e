"""The composition root: settings, database, Redis, Bot, Dispatcher and services, built once.

Every entry point (`indigo run`, `serve`, `worker`, `demo`, tests) calls `build_app`, so tests
exercise the production wiring.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import DefaultKeyBuilder
from redis.asyncio import Redis

from bot.i18n import make_i18n
from bot.middlewares.retry import ReplyScope, RetryAfterMiddleware
from bot.setup import setup_dispatcher
from bot.storage import UpdateMemory, UpdateScopedRedisStorage
from core.people.otp import OtpService
from core.platform.db import close_db, init_db
from core.platform.events import EventBus
from core.platform.redis import make_redis
from core.platform.settings import Settings
from core.registry.gov_client import HttpGovGateway
from core.registry.ports import GovGateway, SmsGateway
from core.registry.sms_client import HttpSmsGateway

log = logging.getLogger(__name__)

# Only when no token is configured (offline demo against the sandbox); Telegram would refuse it.
PLACEHOLDER_TOKEN = "1000000:indigo-offline-token"

Closer = Callable[[], Awaitable[None]]

# The per-chat event isolation (a Redis lock, so safe across processes), taken by the Dispatcher
# and again by aiogram-dialog for each update. redis-py polls a held lock every 100 ms by
# default: a parent's second tap (or a background dialog update) waited up to 100 ms for
# nothing. 5 ms polls cost one SET NX each only while the lock is held; `timeout` frees the lock
# of a process that died holding it.
LOCK_KWARGS: dict[str, Any] = {"timeout": 60, "sleep": 0.005}


def json_dumps(value: Any) -> str:
    """orjson for the FSM and dialog storage (and the Bot API session); `json` for what orjson
    refuses (integers beyond 64 bits), so a stored value never fails where it did not."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


@dataclass
class App:
    settings: Settings
    redis: Redis
    bot: Bot
    dispatcher: Dispatcher
    events: EventBus
    gov: GovGateway
    sms: SmsGateway
    otp: OtpService
    owns_database: bool = False
    # What build_app opened, closed in this order by close_app (tests may swap `gov` for a
    # fake: the client build_app made is still the one closed).
    closers: list[Closer] = field(default_factory=list)


def make_bot(
    settings: Settings,
    session: BaseSession | None = None,
    *,
    retry: RetryAfterMiddleware | None = None,
) -> Bot:
    """The one Bot factory: HTML by default, the configured Bot API server (the sandbox's in
    tests and the demo), and replies that wait out Telegram's 429 (`retry`: the bounds)."""
    if session is None:
        api = (
            TelegramAPIServer.from_base(settings.telegram_api_url)
            if settings.telegram_api_url
            else PRODUCTION
        )
        session = AiohttpSession(api=api, json_loads=orjson.loads, json_dumps=json_dumps)
    if not any(isinstance(m, RetryAfterMiddleware) for m in session.middleware):
        session.middleware.register(retry or RetryAfterMiddleware())
    return Bot(
        token=settings.bot_token or PLACEHOLDER_TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def build_app(
    settings: Settings,
    *,
    bot_session: BaseSession | None = None,
    init_database: bool = True,
) -> App:
    if init_database:
        await init_db(settings)
    redis = make_redis(settings)
    bot = make_bot(settings, bot_session)
    storage = UpdateScopedRedisStorage(
        redis,
        key_builder=DefaultKeyBuilder(with_destiny=True),
        json_loads=orjson.loads,
        json_dumps=json_dumps,
    )
    isolation = storage.create_isolation(lock_kwargs=LOCK_KWARGS)
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation)
    # After aiogram's FSM middleware (registered by the Dispatcher, it takes the chat's lock):
    # the storage remembers this update's reads and writes (bot.storage).
    dispatcher.update.outer_middleware(UpdateMemory())
    # What the handlers send is a reply: the Bot's RetryAfterMiddleware retries it after a 429.
    dispatcher.update.outer_middleware(ReplyScope())
    gov = HttpGovGateway(settings)
    sms = HttpSmsGateway(settings)
    events = EventBus()
    otp = OtpService(redis, settings, sms, gov)
    app = App(
        settings=settings,
        redis=redis,
        bot=bot,
        dispatcher=dispatcher,
        events=events,
        gov=gov,
        sms=sms,
        otp=otp,
        owns_database=init_database,
        closers=[storage.close, gov.close, sms.close, bot.session.close],
    )
    i18n = make_i18n()
    # Services reach handlers as keyword arguments (also in aiogram-dialog background updates).
    dispatcher.workflow_data.update(
        app=app,
        settings=settings,
        events=events,
        gov=gov,
        sms=sms,
        otp=otp,
        redis=redis,
        i18n=i18n,
    )
    # The factory lets code outside a conversation (core event subscribers) move one on.
    dispatcher.workflow_data["dialog_bg_factory"] = setup_dispatcher(
        dispatcher, isolation=isolation, i18n=i18n, bot=bot, redis=redis, events=events
    )
    return app


async def close_app(app: App) -> None:
    for closer in app.closers:
        try:
            await closer()
        except Exception:
            log.exception("closing %s failed", closer)
    if app.owns_database:
        await close_db()
