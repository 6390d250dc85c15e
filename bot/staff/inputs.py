"""Typed answers in the staff dialogs: text goes to the handler, anything else gets a hint.
(Commands never reach these: make_router keeps them for the command routers.)"""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.input.base import MessageHandlerFunc


def typed_text(handler: MessageHandlerFunc) -> list[MessageInput]:
    """`handler` gets text messages; stickers, photos... get a hint and the screen stays."""
    return [MessageInput(handler, content_types=ContentType.TEXT), MessageInput(_not_text)]


async def _not_text(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    await message.answer(_("Please type the answer as text."))
    manager.show_mode = ShowMode.NO_UPDATE
