"""What every conversation uses: the guarded `Window` (a press is accepted only for a button the
window showed), texts translated at render time with the current gettext (never at import), the
choice keyboards built from `(id, label)` pairs, hints for unexpected input, and the accessors of
an update's settings, applicant, language and date."""

from __future__ import annotations

import logging
import operator
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import get_i18n, gettext, ngettext
from aiogram_dialog import Dialog as BaseDialog
from aiogram_dialog import Window as DialogWindow
from aiogram_dialog.api.entities import MarkupVariant
from aiogram_dialog.api.internal import RawKeyboard, ReplyCallbackQuery
from aiogram_dialog.api.protocols import DialogManager, DialogProtocol
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

log = logging.getLogger(__name__)

# --- the window: only what it showed ---------------------------------------------------------

# Telegram sends at most 64 bytes of callback data; anything longer is forged.
CALLBACK_DATA_LIMIT = 64
# Where a context keeps what its window last showed: {"state": ..., "data": [callback data]}.
SHOWN_KEY = "__shown__"


class Window(DialogWindow):
    """aiogram-dialog's Window that accepts a press only of a button it showed.

    aiogram-dialog 2.6 renders `when=` conditions but does not enforce them on callbacks, and
    its Select/Radio/Multiselect/ScrollingGroup/Calendar pass any item id on (a forged
    `benefit_pick:8` chose a benefit the registry never found; `kg_pick:abc` crashed). Every
    keyboard, however nested (a Select in a Group with its own `when`), is rendered by the
    window, so the window records the callback data of every button it shows in the dialog
    context and, on a press, hands on only one of those: a hidden, unlisted, malformed,
    oversized or empty id never reaches a handler and changes nothing. What was shown, not what
    the getter would give now: a button that was fairly shown (a seat taken meanwhile) reaches its
    handler, which explains what changed; the core re-checks every entitlement anyway.
    """

    async def render_kbd(self, data: dict[str, Any], manager: DialogManager) -> MarkupVariant:
        keyboard = await self.keyboard.render_keyboard(data, manager)
        # Before render_markup: it prefixes every button's data with the intent id in place.
        manager.current_context().widget_data[SHOWN_KEY] = {
            "state": str(self.state.state),
            "data": sorted(_callback_data(keyboard)),
        }
        return await self.markup_factory.render_markup(data, manager, keyboard)

    async def process_callback(
        self, callback: CallbackQuery, dialog: DialogProtocol, manager: DialogManager
    ) -> bool:
        state = str(self.state.state)
        if callback.data is not None and _was_shown(manager, state, callback.data):
            if not callback.data:  # a blank cell (the calendar's padding) does nothing
                return False
            return await super().process_callback(callback, dialog, manager)
        log.info("refused a button %s did not show", state)
        await _answer_outdated(callback, manager)
        return False  # aiogram-dialog shows the window again: the buttons it accepts now


class Dialog(BaseDialog):
    """aiogram-dialog's Dialog whose `on_process_result` may close the dialog itself.

    aiogram-dialog 2.6 reads the current context again after `on_process_result`; when that
    handler closed the last dialog (the cabinet left because the parent cancelled the phone
    confirmation), the read raised NoContextError and the parent got "something went wrong"."""

    async def process_result(self, start_data: Any, result: Any, manager: DialogManager) -> None:
        context = manager.current_context()
        if self.on_process_result is not None:
            await self.on_process_result(start_data, result, manager)
        if manager.has_context() and context.id == manager.current_context().id:
            await self.windows[context.state].process_result(start_data, result, manager)


def outdated_button_text() -> str:
    return gettext("This button is outdated. Please use the buttons of the latest message.")


def _callback_data(keyboard: RawKeyboard) -> set[str]:
    return {
        button.callback_data
        for row in keyboard
        for button in row
        if isinstance(button, InlineKeyboardButton) and button.callback_data is not None
    }


def _was_shown(manager: DialogManager, state: str, data: str) -> bool:
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        return False
    shown = manager.current_context().widget_data.get(SHOWN_KEY)
    if not isinstance(shown, dict) or shown.get("state") != state:
        return False  # switched here without showing it: nothing of this window was pressed
    return data in shown.get("data", ())


async def _answer_outdated(callback: CallbackQuery, manager: DialogManager) -> None:
    if isinstance(callback, ReplyCallbackQuery):  # a reply-keyboard "press" cannot be answered
        chat_id = manager.middleware_data["event_chat"].id
        await manager.middleware_data["bot"].send_message(chat_id, outdated_button_text())
        return
    await callback.answer(outdated_button_text())


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
