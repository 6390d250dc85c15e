"""The main menu: each caption starts its conversation or its plain-handler flow."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import Message
from aiogram_dialog import DialogManager, StartMode

from bot.dialogs.states import CabinetSG, ExchangeSG, ReferralSG, SubmissionSG
from bot.filters import MenuButton
from bot.handlers.check import ask_iin
from bot.handlers.directory import ask_search
from bot.handlers.help import send_help
from bot.keyboards import CABINET, CHECK_QUEUE, GET_REFERRAL, HELP, JOIN_QUEUE, KINDERGARTENS


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(join_queue, MenuButton(JOIN_QUEUE))
    router.message.register(cabinet, MenuButton(CABINET))
    router.message.register(referral, MenuButton(GET_REFERRAL))
    router.message.register(check_queue, MenuButton(CHECK_QUEUE))
    router.message.register(kindergartens, MenuButton(KINDERGARTENS))
    router.message.register(help_, MenuButton(HELP))
    router.message.register(exchange, Command("exchange"))
    return router


async def join_queue(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    await start_flow(dialog_manager, SubmissionSG)


async def cabinet(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    await start_flow(dialog_manager, CabinetSG)


async def referral(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await state.clear()
    await start_flow(dialog_manager, ReferralSG)


async def exchange(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    """/exchange: the exchange of places (bot.dialogs.exchange)."""
    await state.clear()
    await start_flow(dialog_manager, ExchangeSG)


async def check_queue(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await _leave_dialogs(dialog_manager)
    await ask_iin(message, state)


async def kindergartens(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await _leave_dialogs(dialog_manager)
    await ask_search(message, state)


async def help_(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    await _leave_dialogs(dialog_manager)
    await state.clear()
    await send_help(message)


async def start_flow(dialog_manager: DialogManager, states: type[StatesGroup]) -> None:
    """Start the first state of a conversation on a fresh stack."""
    await dialog_manager.start(states.__states__[0], mode=StartMode.RESET_STACK)


async def _leave_dialogs(dialog_manager: DialogManager) -> None:
    if dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
