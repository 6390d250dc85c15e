"""What every conversation uses: texts translated at render time with the current gettext
(never at import), the choice keyboards built from `(id, label)` pairs, hints for unexpected
input, and the accessors of an update's settings, applicant, language and date."""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n, gettext, ngettext
from aiogram_dialog.api.protocols import DialogManager
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import (
    ManagedCheckbox,
    ManagedMultiselect,
    ManagedRadio,
    Multiselect,
    Radio,
    Select,
)
from aiogram_dialog.widgets.text import Format, Text

from core.models import Applicant
from core.platform import clock
from core.platform.catalogs import DEFAULT_LANGUAGE, LANGUAGES
from core.platform.settings import Settings

W = TypeVar("W")

# --- the update's context ---------------------------------------------------------------------


def settings_of(manager: DialogManager) -> Settings:
    settings: Settings = manager.middleware_data["settings"]
    return settings


def applicant_of(manager: DialogManager) -> Applicant:
    """The parent talking to the bot (bot.middlewares.applicant puts it in every update)."""
    applicant: Applicant = manager.middleware_data["applicant"]
    return applicant


def applicant_id(manager: DialogManager) -> int:
    return applicant_of(manager).id


def locale_of(manager: DialogManager) -> str:
    """kk or ru: the language this update is answered in (gettext's, else the middleware's,
    else the applicant's stored choice)."""
    try:
        current: str | None = get_i18n().current_locale
    except LookupError:
        current = None
    if current in LANGUAGES:
        return str(current)
    locale = manager.middleware_data.get("locale")
    if locale in LANGUAGES:
        return str(locale)
    applicant = manager.middleware_data.get("applicant")
    language = str(getattr(getattr(applicant, "language", None), "value", DEFAULT_LANGUAGE))
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def tz_of(manager: DialogManager) -> ZoneInfo:
    return settings_of(manager).tz


def today_of(manager: DialogManager) -> date:
    """Today in the service time zone."""
    return clock.now().astimezone(tz_of(manager)).date()


def start_data(manager: DialogManager) -> dict[str, Any]:
    data = manager.start_data
    return data if isinstance(data, dict) else {}


def localized(manager: DialogManager, ru: str, kk: str) -> str:
    """The Kazakh or Russian variant of a stored name for the reader (Russian if no Kazakh)."""
    return kk if locale_of(manager) == "kk" and kk else ru


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


async def reply(callback: CallbackQuery, text: str, **kwargs: Any) -> None:
    """A new message below the one whose button was pressed."""
    if callback.message is None:  # Telegram leaves it out only for inline-mode messages
        raise LookupError("the pressed button has no message to answer")
    await callback.message.answer(text, **kwargs)


# --- the managed widgets of the current window ------------------------------------------------


def checkbox(manager: DialogManager, widget_id: str) -> ManagedCheckbox:
    return _find(manager, widget_id, ManagedCheckbox)


def radio_of(manager: DialogManager, widget_id: str) -> ManagedRadio[str]:
    return _find(manager, widget_id, ManagedRadio)


def multiselect_of(manager: DialogManager, widget_id: str) -> ManagedMultiselect[str]:
    return _find(manager, widget_id, ManagedMultiselect)


def _find(manager: DialogManager, widget_id: str, kind: type[W]) -> W:
    """`manager.find` typed: a widget id that is not in the dialog is a programming error."""
    widget = manager.find(widget_id)
    if not isinstance(widget, kind):
        raise LookupError(f"no {kind.__name__} {widget_id!r} in the current dialog")
    return widget


# --- texts ------------------------------------------------------------------------------------


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


def pick_list(widget_id: str, items: str, on_click: Any) -> Select[str]:
    """One button per `(id, label)` pair in `data[items]`; a press calls `on_click(..., id)`."""
    return Select(
        Format("{item[1]}"),
        id=widget_id,
        item_id_getter=operator.itemgetter(0),
        items=items,
        on_click=on_click,
    )


def radio(widget_id: str, items: str) -> Radio[str]:
    """Exactly one of the `(id, label)` pairs chosen: 🔘 marks it, ⚪ the others."""
    return Radio(
        Format("🔘 {item[1]}"),
        Format("⚪ {item[1]}"),
        id=widget_id,
        item_id_getter=operator.itemgetter(0),
        items=items,
    )


def multiselect(widget_id: str, items: str, max_selected: int = 0) -> Multiselect[str]:
    """Any of the `(id, label)` pairs chosen (at most `max_selected`, 0 = no limit)."""
    return Multiselect(
        Format("✅ {item[1]}"),
        Format("▫️ {item[1]}"),
        id=widget_id,
        item_id_getter=operator.itemgetter(0),
        items=items,
        max_selected=max_selected,
    )


# --- unexpected input -------------------------------------------------------------------------

TextHandler = Callable[[Message, MessageInput, DialogManager], Awaitable[None]]


def hint() -> MessageInput:
    """For windows that expect a button: anything typed or sent gets a hint (the window is
    shown again below it) instead of being silently ignored."""
    return MessageInput(_on_unexpected_input)


def text_input(handler: TextHandler) -> list[MessageInput]:
    """A text answer: `handler` gets text messages; stickers, photos... get a hint."""
    return [MessageInput(handler, content_types=ContentType.TEXT), MessageInput(_on_not_text)]


async def _on_unexpected_input(message: Message, widget: Any, manager: DialogManager) -> None:
    await message.answer(gettext("Please use the buttons under the message below."))


async def _on_not_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await message.answer(gettext("Please type the answer as text."))
