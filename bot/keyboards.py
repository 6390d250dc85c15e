"""The main menu (a reply keyboard) and small shared keyboards.

Menu captions are gettext msgids; `MenuButton` matches a caption in any of our languages, so
a keyboard sent before a language switch still works.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import I18n, gettext
from aiogram.utils.i18n import lazy_gettext as __

JOIN_QUEUE = __("Join the queue")
CHECK_QUEUE = __("Check the queue")
GET_REFERRAL = __("Get a referral")
CABINET = __("Personal cabinet")
KINDERGARTENS = __("Kindergartens")
HELP = __("Help")

MENU_ROWS = ((JOIN_QUEUE, CHECK_QUEUE), (GET_REFERRAL, CABINET), (KINDERGARTENS, HELP))
LANGUAGE_NAMES = {"kk": "Қазақ тілі", "ru": "Русский язык"}


def main_menu() -> ReplyKeyboardMarkup:
    """The main menu in the current language."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=str(label)) for label in row] for row in MENU_ROWS],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=gettext("Choose an action"),
    )


def language_keyboard() -> InlineKeyboardMarkup:
    from bot.handlers.start import LanguageChoice

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=name, callback_data=LanguageChoice(code=code).pack())
                for code, name in LANGUAGE_NAMES.items()
            ]
        ]
    )


class MenuButton(Filter):
    """A main-menu caption, in whichever of our languages the keyboard was sent."""

    def __init__(self, label: Any) -> None:
        self.msgid = label._args[0] if hasattr(label, "_args") else str(label)

    async def __call__(self, message: Message, i18n: I18n | None = None, **_: Any) -> bool:
        if not message.text:
            return False
        if i18n is None:
            return message.text == gettext(self.msgid)
        return message.text in {
            i18n.gettext(self.msgid, locale=locale) for locale in (*i18n.available_locales, "en")
        }
