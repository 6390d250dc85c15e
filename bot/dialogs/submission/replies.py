"""How the wizard answers besides its windows: a refusal above the window (shown again below
it), a message with the main menu, finish, and hints for unexpected content."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button

from bot.keyboards import main_menu
from bot.texts.reasons import local_refusal


async def refuse(message: Message | None, manager: DialogManager, text: str) -> None:
    """Tell the refusal; the current window is shown again below it."""
    chat_id = manager.middleware_data["event_chat"].id
    await manager.middleware_data["bot"].send_message(chat_id, text)
    manager.show_mode = ShowMode.SEND


async def say(manager: DialogManager, text: str) -> None:
    """A message with the main menu (also after a reply-keyboard window, whose "callback"
    carries no accessible message)."""
    chat_id = manager.middleware_data["event_chat"].id
    await manager.middleware_data["bot"].send_message(chat_id, text, reply_markup=main_menu())


async def on_finish(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.done()
    await say(manager, _("Main menu"))


async def on_text_expected(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    await refuse(message, manager, local_refusal("text_expected"))


async def on_buttons_expected(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    await refuse(
        message,
        manager,
        _("Please use the buttons of the message below.")
        if message.content_type == ContentType.TEXT
        else local_refusal("text_expected"),
    )


async def on_document_expected(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    await refuse(message, manager, local_refusal("document_expected"))


async def on_location_expected(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    await refuse(message, manager, local_refusal("location_expected"))
