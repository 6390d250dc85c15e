"""Staff find their tools: a command menu of their own (setMyCommands for their chat, in their
language) and a /help that lists what their role may do.

The menu is set when a staff member sends /start or /help (the parents' handlers answer
/start as usual after this) and when a role is granted or removed from the command line
(`indigo staff add|remove`, or a superadmin's /staff, which call `refresh_menu`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandStart
from aiogram.types import BotCommand, BotCommandScopeChat, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.handlers.start import bot_commands
from core.models import StaffMember, StaffRole

log = logging.getLogger(__name__)

# What each role may do, in the order a staff member meets it in the autumn distribution.
COMMON_TOOLS = ("release", "benefits", "enroll", "revoke", "dismiss", "protocol", "stats")
ROLE_TOOLS: dict[StaffRole, tuple[str, ...]] = {
    StaffRole.kindergarten_admin: (*COMMON_TOOLS, "broadcast", "broadcasts"),
    StaffRole.operator: (*COMMON_TOOLS, "broadcast", "broadcasts", "exchanges", "complaints"),
    StaffRole.superadmin: (
        *COMMON_TOOLS,
        "broadcast",
        "broadcasts",
        "exchanges",
        "complaints",
        "staff",
    ),
    StaffRole.anticorruption: ("complaints",),
}


def _descriptions() -> dict[str, Callable[[], str]]:
    # Lambdas: gettext runs at call time, in the reader's language.
    return {
        "release": lambda: _("Release free seats in a group"),
        "benefits": lambda: _("Benefits waiting for a decision"),
        "enroll": lambda: _("Mark a referral as enrolled"),
        "revoke": lambda: _("Revoke a referral"),
        "dismiss": lambda: _("Record that an enrolled child left the kindergarten"),
        "protocol": lambda: _("Seat release and referral protocols"),
        "stats": lambda: _("Open data figures for your scope"),
        "broadcast": lambda: _("Send a message to parents"),
        "broadcasts": lambda: _("Recent broadcasts and their progress"),
        "complaints": lambda: _("Complaints waiting for an answer"),
        "exchanges": lambda: _("Exchange of places: campaigns and proposed exchanges"),
        "staff": lambda: _("Grant and remove staff roles"),
    }


def staff_commands(staff: StaffMember) -> list[BotCommand]:
    """The menu of one staff member in the current language: their tools, then the parents'."""
    texts = _descriptions()
    tools = [
        BotCommand(command=name, description=texts[name]())
        for name in ROLE_TOOLS[StaffRole(staff.role)]
    ]
    return [*tools, *bot_commands()]


def staff_help(staff: StaffMember) -> str:
    texts = _descriptions()
    scope = {
        StaffRole.superadmin: _("Your role: superadmin (every city)."),
        StaffRole.operator: _("Your role: operator of the education department of a city."),
        StaffRole.kindergarten_admin: _("Your role: administrator of a kindergarten."),
        StaffRole.anticorruption: _("Your role: anti-corruption officer (reports of corruption)."),
    }[StaffRole(staff.role)]
    lines = [f"/{name}: {texts[name]()}" for name in ROLE_TOOLS[StaffRole(staff.role)]]
    return "\n".join(
        [
            _("<b>Staff tools</b>"),
            scope,
            "",
            *lines,
            "",
            _("The parents' menu stays available: /start main menu, /lang language."),
        ]
    )


async def set_menu(bot: Bot, staff: StaffMember) -> None:
    """This staff member's command menu, for their chat only, in the current language."""
    try:
        await bot.set_my_commands(
            staff_commands(staff), scope=BotCommandScopeChat(chat_id=staff.telegram_user_id)
        )
    except Exception:  # the tools still work without the menu
        log.exception("setMyCommands failed for staff %s", staff.id)


async def refresh_menu(bot: Bot, i18n: I18n, staff: StaffMember, language: str) -> None:
    """After a role is granted or removed: the staff menu in `language`, or back to the
    parents' menu (the chat scope deleted) for a member no longer active."""
    if staff.active:
        with i18n.context(), i18n.use_locale(language):
            await set_menu(bot, staff)
        return
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=staff.telegram_user_id))
    except Exception:
        log.exception("deleteMyCommands failed for staff %s", staff.id)


def make_router() -> Router:
    """Staff only (the including router checks): /start refreshes the menu and goes on to the
    parents' /start; /help lists the staff tools."""
    router = Router(name="staff.menu")
    router.message.register(start_refreshes_menu, CommandStart())
    router.message.register(help_for_staff, Command("help"))
    return router


async def start_refreshes_menu(message: Message, staff: StaffMember, bot: Bot) -> None:
    await set_menu(bot, staff)
    raise SkipHandler  # the main menu as for everybody


async def help_for_staff(message: Message, staff: StaffMember, bot: Bot) -> None:
    await set_menu(bot, staff)
    await message.answer(staff_help(staff))
