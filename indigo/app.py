"""The composition root: settings, database, Redis, Bot, Dispatcher and services, built once.

Every entry point (`indigo run`, `serve`, `worker`, `demo`, tests) calls `build_app`, so tests
exercise the production wiring.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram_dialog import setup_dialogs
from redis.asyncio import Redis

from bot.i18n import ApplicantI18nMiddleware, make_i18n
from bot.middlewares import ApplicantMiddleware
from bot.middlewares.position_index import PositionIndexMiddleware
from core.people.otp import OtpService
from core.platform.events import EventBus
from core.platform.redis import make_redis
from core.platform.settings import Settings
from core.registry.ports import GovGateway, SmsGateway

log = logging.getLogger(__name__)

# Only when no token is configured (offline demo against the sandbox); Telegram would refuse it.
PLACEHOLDER_TOKEN = "1000000:indigo-offline-token"


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


async def build_app(
    settings: Settings,
    *,
    bot_session: BaseSession | None = None,
    init_database: bool = True,
) -> App:
    if init_database:
        from core.platform.db import init_db

        await init_db(settings)
    redis = make_redis(settings)
    if bot_session is None and settings.telegram_api_url:
        bot_session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(
        token=settings.bot_token or PLACEHOLDER_TOKEN,
        session=bot_session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    storage = RedisStorage(redis, key_builder=DefaultKeyBuilder(with_destiny=True))
    isolation = storage.create_isolation()
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation)
    gov, sms = _gateways(settings)
    app = App(
        settings=settings,
        redis=redis,
        bot=bot,
        dispatcher=dispatcher,
        events=EventBus(),
        gov=gov,
        sms=sms,
        otp=OtpService(redis, settings, sms, gov),
        owns_database=init_database,
    )
    # Services reach handlers as keyword arguments (also in aiogram-dialog background updates).
    dispatcher.workflow_data.update(
        app=app,
        settings=settings,
        events=app.events,
        gov=gov,
        sms=sms,
        otp=app.otp,
        redis=redis,
    )
    _include_routers(dispatcher)
    # The factory lets code outside a conversation (core event subscribers) move one on.
    dispatcher.workflow_data["dialog_bg_factory"] = setup_dialogs(
        dispatcher, events_isolation=isolation
    )
    # After setup_dialogs, so that background dialog updates get an applicant and a language too.
    ApplicantMiddleware().setup(dispatcher)
    PositionIndexMiddleware(redis).setup(dispatcher)
    i18n = make_i18n()
    dispatcher.workflow_data["i18n"] = i18n  # start-up hooks (setMyCommands) translate too
    ApplicantI18nMiddleware(i18n).setup(dispatcher)

    from bot.handlers.start import set_commands

    dispatcher.startup.register(set_commands)
    from bot.dialogs import subscribe

    try:
        subscribe(app)
    except ImportError:  # a conversation module still being written
        log.warning("dialog subscriptions are not available", exc_info=True)
    return app


async def close_app(app: App) -> None:
    for closer in (
        app.dispatcher.storage.close,
        getattr(app.gov, "close", None),
        getattr(app.sms, "close", None),
        app.bot.session.close,
    ):
        if closer is None:
            continue
        try:
            await closer()
        except Exception:
            log.exception("closing %s failed", closer)
    if app.owns_database:
        from core.platform.db import close_db

        await close_db()


def _include_routers(dispatcher: Dispatcher) -> None:
    from bot.dialogs import all_dialogs
    from bot.handlers import all_routers, fallback_routers

    handler_routers = (*all_routers(), *fallback_routers())
    for router in handler_routers:
        # aiogram-dialog answers its own button presses; a second answer is refused by
        # Telegram ("query is too old"), so only plain handlers get the automatic answer.
        manager = router.callback_query.middleware
        if not any(isinstance(m, CallbackAnswerMiddleware) for m in manager._middlewares):
            manager(CallbackAnswerMiddleware())
    for router in (*all_routers(), *all_dialogs(), *fallback_routers()):
        dispatcher.include_router(router)


def _gateways(settings: Settings) -> tuple[GovGateway, SmsGateway]:
    from core.registry.gov_client import HttpGovGateway
    from core.registry.sms_client import HttpSmsGateway

    return HttpGovGateway(settings), HttpSmsGateway(settings)
