"""The Dispatcher's wiring: every router and dialog by an explicit list, the middlewares in
order, the start-up hook and the conversations that continue on core events.

`indigo.app.build_app` calls `setup_dispatcher` once per Dispatcher; every router here is built
fresh by its factory, so several apps can live in one process (tests build many).
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import I18n
from aiogram_dialog import BgManagerFactory, setup_dialogs
from redis.asyncio import Redis

from bot import staff
from bot.dialogs import (
    benefit_change,
    cabinet,
    complaints,
    exchange,
    extension,
    foresight,
    receipts,
    recovery,
    referral,
    referral_mode,
    settings,
    submission,
    verification,
)
from bot.dialogs.intent_ids import unique_intent_ids
from bot.handlers import check, directory, errors, help, menu, start
from bot.i18n import ApplicantI18nMiddleware
from bot.middlewares.applicant import ApplicantMiddleware
from bot.middlewares.position_index import PositionIndexMiddleware
from core.platform.events import EventBus


def setup_dispatcher(
    dispatcher: Dispatcher,
    *,
    isolation: BaseEventIsolation,
    i18n: I18n,
    bot: Bot,
    redis: Redis,
    events: EventBus,
) -> BgManagerFactory:
    """Include every router and dialog, set up aiogram-dialog and the middlewares, register the
    start-up hook and the background subscriptions. Returns aiogram-dialog's background manager
    factory, with which code outside a conversation (core event subscribers) moves one on."""
    dispatcher.include_routers(
        errors.make_router(),  # first: its error observers see every router's failures
        # Commands and the main menu come before the dialogs: they work inside any conversation.
        *_answered(referral.make_offer_router(), receipts.make_router(), foresight.make_router()),
        staff.make_router(),  # answers its own button presses
        *_answered(
            start.make_router(),
            help.make_router(),
            menu.make_router(),
            check.make_router(),
            directory.make_router(),
        ),
        *conversations(),
        # Last: whatever no command, menu or conversation took.
        *_answered(errors.make_fallback_router()),
    )
    unique_intent_ids()  # a nested conversation must not overwrite its parent's data
    bg_factory = setup_dialogs(dispatcher, events_isolation=isolation)
    # After setup_dialogs, so that background dialog updates get an applicant and a language too.
    ApplicantMiddleware().setup(dispatcher)
    PositionIndexMiddleware(redis).setup(dispatcher)
    ApplicantI18nMiddleware(i18n).setup(dispatcher)

    async def set_commands() -> None:
        await start.set_commands(bot, i18n)

    dispatcher.startup.register(set_commands)
    subscribe_background(events=events, redis=redis, bot=bot, bg_factory=bg_factory)
    return bg_factory


def _answered(*routers: Router) -> tuple[Router, ...]:
    """Plain handlers get the automatic answer to a button press. Not the dialogs: aiogram-dialog
    answers its own presses, and a second answer is refused by Telegram ("query is too old")."""
    for router in routers:
        router.callback_query.middleware(CallbackAnswerMiddleware())
    return routers


def conversations() -> list[Router]:
    """Every dialog, each once, built fresh for this Dispatcher."""
    return [
        benefit_change.make_dialog(),
        cabinet.make_dialog(),
        complaints.make_dialog(),
        exchange.make_dialog(),
        extension.make_dialog(),
        foresight.make_dialog(),
        receipts.make_dialog(),
        recovery.make_dialog(),
        referral.make_dialog(),
        referral_mode.make_dialog(),
        settings.make_dialog(),
        submission.make_dialog(),
        verification.make_dialog(),
    ]


def subscribe_background(
    *, events: EventBus, redis: Redis, bot: Bot, bg_factory: BgManagerFactory
) -> None:
    """The conversations that continue by themselves on core events (the gov family result)."""
    submission.subscribe(events, redis, bot, bg_factory)  # the wizard shows the children found
    recovery.subscribe(events, redis, bot, bg_factory)  # access recovery sends its code
