"""Message filters shared by the handlers.

`MenuButton` matches a reply-keyboard caption in any of our languages, so a keyboard sent
before a language switch still works.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import I18n, gettext


class MenuButton(Filter):
    """A reply-keyboard caption, given by its gettext msgid, in whichever language it was sent."""

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    async def __call__(self, message: Message, i18n: I18n | None = None) -> bool:
        if not message.text:
            return False
        if i18n is None:
            return message.text == gettext(self.msgid)
        return message.text in {
            i18n.gettext(self.msgid, locale=locale) for locale in (*i18n.available_locales, "en")
        }
