"""Text widgets translated at render time with the current gettext (never at import)."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext, ngettext
from aiogram_dialog.api.protocols import DialogManager
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.text import Text


class Tr(Text):
    """`Tr("Step {step} of 4")`: the msgid translated for the reader, then `.format_map(data)`.

    Works anywhere a Text widget does, including button captions.
    """

    def __init__(self, msgid: str, when: WhenCondition = None) -> None:
        super().__init__(when=when)
        self.msgid = msgid

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        return gettext(self.msgid).format_map(data)


class TrN(Text):
    """Plural form chosen by `data[count]`: `TrN("{n} application", "{n} applications", "n")`."""

    def __init__(self, singular: str, plural: str, count: str, when: WhenCondition = None) -> None:
        super().__init__(when=when)
        self.singular = singular
        self.plural = plural
        self.count = count

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        return ngettext(self.singular, self.plural, int(data[self.count])).format_map(data)
