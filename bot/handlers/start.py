"""/start (with a deep-link application number), language choice, /lang, /cancel, commands."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import BotCommand, CallbackQuery, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode
from redis.asyncio import Redis

from bot.callbacks import LanguageChoice
from bot.dialogs.states import SubmissionSG
from bot.dialogs.submission import drafts
from bot.handlers.check import show_application_number
from bot.i18n import client_language
from bot.keyboards import language_keyboard, main_menu
from core.models import Applicant
from core.people import applicants
from core.platform.catalogs import DEFAULT_LANGUAGE, LANGUAGES
from core.platform.settings import Settings

log = logging.getLogger(__name__)


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.message.register(change_language, Command("lang"))
    router.callback_query.register(language_chosen, LanguageChoice.filter(F.code.in_(LANGUAGES)))
    router.message.register(cancel, Command("cancel"))
    return router


async def language_known(applicant: Applicant, user: User | None, redis: Redis) -> bool:
    """True when the client speaks kk/ru or the parent has picked a language before."""
    if user is not None and client_language(user.language_code):
        return True
    return bool(await redis.exists(_chosen_key(applicant.id)))


async def send_greeting(message: Message) -> None:
    await message.answer(
        _(
            "Hello! I am the bot of the kindergarten queue.\n\n"
            "Here you can join the queue for a kindergarten, check your place in it, "
            "get a referral when a seat is free, and find kindergartens nearby.\n\n"
            "Choose an action in the menu below."
        ),
        reply_markup=main_menu(),
    )


async def ask_language(message: Message) -> None:
    # Both languages at once: we do not know yet which one the parent reads.
    await message.answer("Тілді таңдаңыз.\nВыберите язык.", reply_markup=language_keyboard())


async def start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    dialog_manager: DialogManager,
    applicant: Applicant,
    redis: Redis,
    settings: Settings,
) -> None:
    await state.clear()
    await drafts.keep_draft(dialog_manager)  # /start mid-application loses nothing
    if dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
    if not await language_known(applicant, message.from_user, redis):
        await ask_language(message)
        return
    # A seat-offer payload (bot.callbacks.seat_offer_payload) is taken by the offer router,
    # included before this one; any other payload is an application number.
    if command.args:
        await message.answer(_("Welcome!"), reply_markup=main_menu())
        await show_application_number(message, command.args.strip(), settings, redis=redis)
        return
    await send_greeting(message)
    if await drafts.has_draft(dialog_manager):  # "continue where you stopped / start again"
        await dialog_manager.start(SubmissionSG.resume, mode=StartMode.RESET_STACK)


async def change_language(message: Message) -> None:
    await ask_language(message)


async def language_chosen(
    callback: CallbackQuery,
    callback_data: LanguageChoice,
    applicant: Applicant,
    redis: Redis,
    i18n: I18n,
) -> None:
    await applicants.set_language(applicant, callback_data.code)
    await redis.set(_chosen_key(applicant.id), 1)
    with i18n.use_locale(callback_data.code):
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=None)
            await callback.message.answer(_("Interface language: English"))
            await send_greeting(callback.message)


async def cancel(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    kept = await drafts.keep_draft(dialog_manager)
    if dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
    await message.answer(_("Cancelled. You are in the main menu."), reply_markup=main_menu())
    if kept:
        await message.answer(_("Your answers are kept. To continue, press «Join the queue»."))


def bot_commands() -> list[BotCommand]:
    """The command list in the current language."""
    return [
        BotCommand(command="start", description=_("Main menu")),
        BotCommand(command="lang", description=_("Change the language")),
        BotCommand(command="cancel", description=_("Cancel the current action")),
        BotCommand(command="help", description=_("Help")),
    ]


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """setMyCommands for kk, ru and the default (Russian), at start-up."""
    for language in (*LANGUAGES, None):
        with i18n.context(), i18n.use_locale(language or DEFAULT_LANGUAGE):
            try:
                await bot.set_my_commands(bot_commands(), language_code=language)
            except Exception:  # the bot still works without the command hints
                log.exception("setMyCommands failed for %s", language)


def _chosen_key(applicant_id: int) -> str:
    return f"indigo:lang-chosen:{applicant_id}"
