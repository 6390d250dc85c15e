"""The polite refusal of staff commands and staff buttons to everybody who is not staff; /stats
and /protocol, whose figures are open data, show a parent the public page instead."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import UndoCb
from bot.filters import STAFF_COMMANDS, IsStaff
from bot.handlers.open_data import open_data
from bot.staff.benefits import BenefitCb

OPEN_DATA_COMMANDS = ("stats", "protocol")


def make_router() -> Router:
    """Placed before the staff-only router: it sees the commands and buttons of non-staff."""
    router = Router(name="staff.refusal")
    router.message.register(open_data, Command(*OPEN_DATA_COMMANDS), ~IsStaff())
    router.message.register(not_staff, Command(*STAFF_COMMANDS), ~IsStaff())
    router.callback_query.register(
        not_staff_button,
        F.data.startswith((f"{BenefitCb.__prefix__}:", f"{UndoCb.__prefix__}:")),
        ~IsStaff(),
    )
    return router


async def not_staff(message: Message) -> None:
    await message.answer(
        _(
            "Sorry, this command is only for employees of education departments and "
            "kindergartens. Press /start for the main menu."
        )
    )


async def not_staff_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is only for staff."), show_alert=True)
