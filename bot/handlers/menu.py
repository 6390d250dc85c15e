"""The main menu: each caption starts its conversation or its plain-handler flow.

A menu tap in the middle of the application wizard does not end it silently: the parent is
asked "leave the application? your answers are kept" first, and on "leave" the answers are kept
as a draft that "Join the queue" (or /start) offers back.
"""

from __future__ import annotations

from typing import Literal

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot.dialogs.states import CabinetSG, ReferralSG, SubmissionSG
from bot.dialogs.submission import drafts
from bot.filters import MenuButton
from bot.handlers.check import ask_iin
from bot.handlers.directory import ask_search
from bot.handlers.help import send_help
from bot.keyboards import (
    CABINET,
    CHECK_QUEUE,
    GET_REFERRAL,
    HELP,
    JOIN_QUEUE,
    KINDERGARTENS,
    main_menu,
)
from core.platform.settings import Settings

Target = Literal["cabinet", "referral", "check", "kindergartens", "help"]


class LeaveWizard(CallbackData, prefix="leave"):
    """The answer to "leave the application?": `to` is the menu item tapped, `stay` the choice."""

    to: str
    stay: bool


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(join_queue, MenuButton(JOIN_QUEUE))
    router.message.register(cabinet, MenuButton(CABINET))
    router.message.register(referral, MenuButton(GET_REFERRAL))
    router.message.register(check_queue, MenuButton(CHECK_QUEUE))
    router.message.register(kindergartens, MenuButton(KINDERGARTENS))
    router.message.register(help_, MenuButton(HELP))
    router.callback_query.register(leave_answered, LeaveWizard.filter(F.to.in_(TARGETS)))
    return router


async def join_queue(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    await drafts.keep_draft(dialog_manager)  # tapped again mid-wizard: offered back below
    await start_submission(dialog_manager)


async def start_submission(dialog_manager: DialogManager) -> None:
    """The wizard, or first "continue where you stopped / start again" when a draft is kept."""
    if await drafts.has_draft(dialog_manager):
        await dialog_manager.start(SubmissionSG.resume, mode=StartMode.RESET_STACK)
    else:
        await start_flow(dialog_manager, SubmissionSG)


async def cabinet(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    if not await ask_to_leave(message, dialog_manager, "cabinet"):
        await _go(message, state, dialog_manager, "cabinet")


async def referral(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    if not await ask_to_leave(message, dialog_manager, "referral"):
        await _go(message, state, dialog_manager, "referral")


async def check_queue(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    if not await ask_to_leave(message, dialog_manager, "check"):
        await _go(message, state, dialog_manager, "check")


async def kindergartens(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    if not await ask_to_leave(message, dialog_manager, "kindergartens"):
        await _go(message, state, dialog_manager, "kindergartens")


async def help_(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    if not await ask_to_leave(message, dialog_manager, "help"):
        await _go(message, state, dialog_manager, "help")


async def start_flow(dialog_manager: DialogManager, states: type[StatesGroup]) -> None:
    """Start the first state of a conversation on a fresh stack."""
    await dialog_manager.start(states.__states__[0], mode=StartMode.RESET_STACK)


# --- a menu tap in the middle of the application -----------------------------------------------

TARGETS: tuple[Target, ...] = ("cabinet", "referral", "check", "kindergartens", "help")


async def ask_to_leave(message: Message, dialog_manager: DialogManager, target: Target) -> bool:
    """In the wizard with answers to lose: ask before leaving (True: asked, nothing else done)."""
    if not drafts.in_wizard(dialog_manager):
        return False
    if dialog_manager.current_context().state in drafts.NOT_KEPT - {SubmissionSG.cancel_confirm}:
        return False
    settings: Settings = dialog_manager.middleware_data["settings"]
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("↩️ Leave the application"),
                    callback_data=LeaveWizard(to=target, stay=False).pack(),
                ),
            ],
            [
                InlineKeyboardButton(
                    text=_("⬅️ Stay in the application"),
                    callback_data=LeaveWizard(to=target, stay=True).pack(),
                ),
            ],
        ]
    )
    await message.answer(
        _(
            "You are filling in an application. Leave it? Your answers are kept for {days} "
            "days: «Join the queue» will offer to continue where you stopped."
        ).format(days=settings.draft_ttl_days),
        reply_markup=keyboard,
    )
    return True


async def leave_answered(
    callback: CallbackQuery,
    callback_data: LeaveWizard,
    state: FSMContext,
    dialog_manager: DialogManager,
) -> None:
    message = callback.message  # the router's CallbackAnswerMiddleware answers the press
    if not isinstance(message, Message):
        return
    await message.edit_reply_markup(reply_markup=None)
    if callback_data.stay:
        if drafts.in_wizard(dialog_manager):  # the wizard's window again, below this message
            await dialog_manager.show(ShowMode.SEND)
        else:  # an older question, pressed after the wizard was left: offer the draft back
            await start_submission(dialog_manager)
        return
    if await drafts.keep_draft(dialog_manager):
        await message.answer(
            _("Your answers are kept. To continue, press «Join the queue»."),
            reply_markup=main_menu(),
        )
    target: Target = next(t for t in TARGETS if t == callback_data.to)
    await _go(message, state, dialog_manager, target)


async def _go(
    message: Message, state: FSMContext, dialog_manager: DialogManager, target: Target
) -> None:
    """Do what the menu item does (the wizard, if any, is left: its draft is already kept)."""
    await state.clear()
    if target == "cabinet":
        await start_flow(dialog_manager, CabinetSG)
    elif target == "referral":
        await start_flow(dialog_manager, ReferralSG)
    else:
        await _leave_dialogs(dialog_manager)
        if target == "check":
            await ask_iin(message, state)
        elif target == "kindergartens":
            await ask_search(message, state)
        else:
            await send_help(message)


async def _leave_dialogs(dialog_manager: DialogManager) -> None:
    if dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
