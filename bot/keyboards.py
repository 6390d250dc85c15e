"""The main menu (a reply keyboard) and the language picker.

Menu captions are gettext msgids, translated when the keyboard is built; `bot.filters.MenuButton`
matches a caption in any of our languages.
"""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext

from bot.callbacks import LanguageChoice
from bot.i18n import N_

JOIN_QUEUE = N_("Join the queue")
CHECK_QUEUE = N_("Check the queue")
GET_REFERRAL = N_("Get a referral")
CABINET = N_("Personal cabinet")
KINDERGARTENS = N_("Kindergartens")
HELP = N_("Help")

MENU_ROWS = ((JOIN_QUEUE, CHECK_QUEUE), (GET_REFERRAL, CABINET), (KINDERGARTENS, HELP))
LANGUAGE_NAMES = {"kk": "Қазақ тілі", "ru": "Русский язык"}


def main_menu() -> ReplyKeyboardMarkup:
    """The main menu in the current language."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=gettext(msgid)) for msgid in row] for row in MENU_ROWS],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=gettext("Choose an action"),
    )


def language_keyboard() -> InlineKeyboardMarkup:
    """Both languages, each named in itself: we may not know yet which one the parent reads."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=name, callback_data=LanguageChoice(code=code).pack())
                for code, name in LANGUAGE_NAMES.items()
            ]
        ]
    )
