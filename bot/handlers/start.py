"""/start (with a deep-link application number), language choice, /lang, /cancel, commands."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import BotCommand, CallbackQuery, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from redis.asyncio import Redis

from bot.i18n import client_language
from bot.keyboards import language_keyboard, main_menu
from core.models import Applicant
from core.people import applicants
from core.platform.settings import Settings

log = logging.getLogger(__name__)
router = Router(name=__name__)


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


def _chosen_key(applicant_id: int) -> str:
    return f"indigo:lang-chosen:{applicant_id}"


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


@router.message(CommandStart())
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
    if dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
    if not await language_known(applicant, message.from_user, redis):
        await ask_language(message)
        return
    if command.args:
        from bot.handlers.check import show_application_number

        await message.answer(_("Welcome!"), reply_markup=main_menu())
        await show_application_number(message, command.args.strip(), settings)
        return
    await send_greeting(message)


@router.message(Command("lang"))
async def change_language(message: Message) -> None:
    await ask_language(message)


@router.callback_query(LanguageChoice.filter(F.code.in_({"kk", "ru"})))
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


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    if dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
    await message.answer(_("Cancelled. You are in the main menu."), reply_markup=main_menu())


def bot_commands() -> list[BotCommand]:
    """The command list in the current language."""
    return [
        BotCommand(command="start", description=_("Main menu")),
        BotCommand(command="lang", description=_("Change the language")),
        BotCommand(command="cancel", description=_("Cancel the current action")),
        BotCommand(command="help", description=_("Help")),
    ]


async def set_commands(
    bot: Bot | None = None, i18n: I18n | None = None, app: Any = None, **_: Any
) -> None:
    """setMyCommands for kk, ru and the default (Russian), at start-up."""
    bot = bot or getattr(app, "bot", None)
    if bot is None or i18n is None:
        log.warning("setMyCommands skipped: no bot or i18n in the start-up data")
        return
    for language in ("kk", "ru", None):
        with i18n.context(), i18n.use_locale(language or "ru"):
            try:
                await bot.set_my_commands(bot_commands(), language_code=language)
            except Exception:  # the bot still works without the command hints
                log.exception("setMyCommands failed for %s", language)
