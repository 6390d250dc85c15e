"""/help and the "Help" menu item."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.keyboards import main_menu


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(help_command, Command("help"))
    return router


async def send_help(message: Message) -> None:
    await message.answer(
        _(
            "<b>How to use the bot</b>\n\n"
            "<b>Join the queue</b>: submit an application for a kindergarten (two verified "
            "phone numbers and the parent's IIN are needed).\n"
            "<b>Check the queue</b>: the place of a child in the queue by the child's or "
            "the parent's IIN, no login needed.\n"
            "<b>Get a referral</b>: take a free seat when your turn comes.\n"
            "<b>Personal cabinet</b>: your applications, referrals, notifications and settings.\n"
            "<b>Kindergartens</b>: search by name or by location.\n\n"
            "Commands: /start main menu, /lang change the language, /cancel stop the current "
            "action, /help this help.\n\n"
            "Questions about the queue are answered by the education department of your city."
        ),
        reply_markup=main_menu(),
    )


async def help_command(message: Message) -> None:
    await send_help(message)
