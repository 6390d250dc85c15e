"""Dialog widgets: texts translated at render time with the current gettext (never at import),
and the choice keyboards every conversation builds from `(id, label)` pairs."""

from __future__ import annotations

import operator
from typing import Any

from aiogram.utils.i18n import gettext, ngettext
from aiogram_dialog.api.protocols import DialogManager
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.kbd import Multiselect, Radio, Select
from aiogram_dialog.widgets.text import Format, Text


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


# Choice keyboards. Every getter hands them `(id, label)` pairs, so the id and the label are
# always item[0] and item[1]; labels are already translated by the getter.


def pick_list(widget_id: str, items: str, on_click: Any) -> Select:
    """One button per `(id, label)` pair in `data[items]`; a press calls `on_click(..., id)`."""
    return Select(
        Format("{item[1]}"),
        id=widget_id,
        item_id_getter=operator.itemgetter(0),
        items=items,
        on_click=on_click,
    )


def radio(widget_id: str, items: str) -> Radio:
    """Exactly one of the `(id, label)` pairs chosen: 🔘 marks it, ⚪ the others."""
    return Radio(
        Format("🔘 {item[1]}"),
        Format("⚪ {item[1]}"),
        id=widget_id,
        item_id_getter=operator.itemgetter(0),
        items=items,
    )


def multiselect(widget_id: str, items: str, max_selected: int = 0) -> Multiselect:
    """Any of the `(id, label)` pairs chosen (at most `max_selected`, 0 = no limit)."""
    return Multiselect(
        Format("✅ {item[1]}"),
        Format("▫️ {item[1]}"),
        id=widget_id,
        item_id_getter=operator.itemgetter(0),
        items=items,
        max_selected=max_selected,
    )
