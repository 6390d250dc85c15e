"""The main menu: each caption starts its conversation (dialogs of the other flows)."""

from __future__ import annotations

import importlib
import logging

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode

from bot.handlers import check, directory
from bot.handlers.help import send_help
from bot.keyboards import (
    CABINET,
    CHECK_QUEUE,
    GET_REFERRAL,
    HELP,
    JOIN_QUEUE,
    KINDERGARTENS,
    MenuButton,
    main_menu,
)

log = logging.getLogger(__name__)
router = Router(name=__name__)


async def start_flow(
    message: Message, dialog_manager: DialogManager, module: str, group: str
) -> None:
    """Start the first state of `bot.dialogs.<module>.<group>` on a fresh stack."""
    try:
        states = getattr(importlib.import_module(f"bot.dialogs.{module}"), group)
        first = states.__states__[0]
    except (ImportError, AttributeError, IndexError):
        log.warning("dialog %s.%s is not available", module, group)
        await message.answer(
            _("This section is not available yet. Please try again later."),
            reply_markup=main_menu(),
        )
        return
    await dialog_manager.start(first, mode=StartMode.RESET_STACK)


@router.message(MenuButton(JOIN_QUEUE))
async def join_queue(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    await start_flow(message, dialog_manager, "states", "SubmissionSG")


@router.message(MenuButton(CABINET))
async def cabinet(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    await start_flow(message, dialog_manager, "states", "CabinetSG")


@router.message(MenuButton(GET_REFERRAL))
async def referral(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    await start_flow(message, dialog_manager, "states", "ReferralSG")


@router.message(MenuButton(CHECK_QUEUE))
async def check_queue(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await _leave_dialogs(dialog_manager)
    await check.ask_iin(message, state)


@router.message(MenuButton(KINDERGARTENS))
async def kindergartens(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await _leave_dialogs(dialog_manager)
    await directory.ask_search(message, state)


@router.message(MenuButton(HELP))
async def help_(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await _leave_dialogs(dialog_manager)
    await state.clear()
    await send_help(message)


async def _leave_dialogs(dialog_manager: DialogManager) -> None:
    if dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
