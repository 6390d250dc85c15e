"""/broadcast: a staff member writes a message in Kazakh and Russian, chooses who receives it
(filters within their scope, with a live recipient count) and sends it; `/broadcast
stop|resume|cancel [number]` pause, continue or cancel the named one (else one's own latest).
The worker sends it and keeps the progress message up to date."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Column, Group, Row, SwitchTo
from aiogram_dialog.widgets.text import Format
from babel.numbers import format_decimal

from bot.dialogs.common import Tr, Window, pick_list
from bot.staff import texts
from bot.staff.answers import close_with
from bot.staff.audience import is_audience_line, parse_audience
from bot.staff.context import accept, offer, staff_of, user_of
from bot.staff.inputs import typed_text
from bot.staff.states import BroadcastSG
from bot.texts.formats import esc
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import StaffMember, StaffRole
from core.notifications import broadcasts
from core.platform.errors import DomainError

AUDIENCE_LIST_LIMIT = 20
ALL = "all"  # the choice that clears a filter (a Select id cannot be empty)


def make_router() -> Router:
    """/broadcast and its stop/resume (staff only: the router that includes this one checks)."""
    router = Router(name="staff.broadcast")
    router.message.register(broadcast_start, Command("broadcast"))
    return router


def make_dialog() -> Dialog:
    return Dialog(
        Window(
            Tr("New broadcast. Send the text in Kazakh (/cancel to stop)."),
            *typed_text(on_text_kk),
            state=BroadcastSG.text_kk,
        ),
        Window(
            Tr("Now send the text in Russian."),
            *typed_text(on_text_ru),
            state=BroadcastSG.text_ru,
        ),
        Window(
            Tr(
                "Who receives it? Press a filter to change it, then “Continue”.\n"
                "Recipients now: <b>{count}</b>\n\n"
                "Or send all the filters in one line: <code>all</code> or "
                "<code>kindergarten=12 birth_year=2021 language=kk queue_type=general "
                "status=active</code>"
            ),
            Column(pick_list("filter", "filters", on_filter)),
            Row(
                Button(Tr("Continue"), id="done", on_click=on_continue),
                Button(Tr("Cancel"), id="no", on_click=on_cancel),
            ),
            *typed_text(on_typed),
            getter=audience_getter,
            state=BroadcastSG.audience,
        ),
        Window(
            Format("{prompt}"),  # the getter translates: the prompt depends on the filter
            Column(pick_list("all", "everyone", on_value)),
            Group(pick_list("year", "values", on_value), width=4, when="by_four"),
            Column(pick_list("value", "values", on_value), when="by_one"),
            SwitchTo(Tr("Back"), id="back", state=BroadcastSG.audience),
            *typed_text(on_typed),
            getter=choice_getter,
            state=BroadcastSG.choice,
        ),
        Window(
            Format("{audience}"),
            Tr("Recipients: {count}.\n\nKazakh:\n{kk}\n\nRussian:\n{ru}"),
            Row(
                Button(Tr("Send"), id="ok", on_click=on_send),
                Button(Tr("Cancel"), id="no", on_click=on_cancel),
            ),
            SwitchTo(Tr("Change the recipients"), id="aud", state=BroadcastSG.audience),
            getter=preview_getter,
            state=BroadcastSG.confirm,
        ),
    )


async def broadcast_start(
    message: Message, command: CommandObject, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    argument, _sep, named = (command.args or "").strip().lower().partition(" ")
    number = named.strip().lstrip("#№")
    broadcast_id = int(number) if number.isdigit() and len(number) < 10 else None
    if argument in ("stop", "pause", "resume", "cancel") and named.strip() and not broadcast_id:
        await message.answer(_("Usage: /broadcast stop|resume|cancel [number]"))
        return
    if argument in ("stop", "pause"):
        paused = await broadcasts.pause(staff, broadcast_id)
        await message.answer(
            _("Broadcast #{id} is paused. /broadcast resume continues it.").format(id=paused.id)
            if paused
            else _("No broadcast is running.")
        )
        return
    if argument == "resume":
        resumed = await broadcasts.resume(staff, broadcast_id)
        await message.answer(
            _("Broadcast #{id} continues.").format(id=resumed.id)
            if resumed
            else _("No broadcast is paused.")
        )
        return
    if argument == "cancel":
        cancelled = await broadcasts.cancel(staff, broadcast_id)
        await message.answer(
            _("Broadcast #{id} is cancelled: nothing more of it will be sent.").format(
                id=cancelled.id
            )
            if cancelled
            else _("No broadcast is running or paused.")
        )
        return
    await dialog_manager.start(BroadcastSG.text_kk, mode=StartMode.RESET_STACK)


# --- the texts ------------------------------------------------------------------------------


async def on_text_kk(message: Message, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["text_kk"] = message.text
    await manager.switch_to(BroadcastSG.text_ru)


async def on_text_ru(message: Message, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["text_ru"] = message.text
    manager.dialog_data["audience"] = await broadcasts.default_audience(staff_of(manager))
    await manager.switch_to(BroadcastSG.audience)


# --- the audience: one button per filter, the live count -------------------------------------


async def audience_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    view, filters = await _filters(dialog_manager)
    offer(dialog_manager, "filter", [key for key, _label in filters])
    return {
        "filters": filters,
        "count": format_decimal(view.count, locale=texts.locale(user_of(dialog_manager))),
    }


async def _filters(
    dialog_manager: DialogManager,
) -> tuple[broadcasts.AudienceView, list[tuple[str, str]]]:
    """The audience as the core scopes it, and one line per filter in the reader's language."""
    view = await broadcasts.describe_audience(staff_of(dialog_manager), _audience(dialog_manager))
    dialog_manager.dialog_data["audience"] = chosen = view.audience
    user = user_of(dialog_manager)
    everyone = _("all")
    city = texts.name(view.city, user) if view.city else everyone
    kindergarten = texts.name(view.kindergarten, user) if view.kindergarten else everyone
    year = str(chosen["birth_year"]) if chosen.get("birth_year") else everyone
    return view, [
        ("city", _("City: {value}").format(value=city)),
        ("kindergarten", _("Kindergarten: {value}").format(value=kindergarten)),
        ("birth_year", _("Year of birth: {value}").format(value=year)),
        ("language", _("Language: {value}").format(value=_shown(chosen, "language"))),
        ("queue_type", _("Queue: {value}").format(value=_shown(chosen, "queue_type"))),
        ("status", _("Status: {value}").format(value=_shown(chosen, "status"))),
    ]


async def on_filter(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    """Open a filter's choices; the filters the role fixes stay closed."""
    staff = staff_of(manager)
    try:
        key = accept(manager, "filter", item_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    if key == "city" and staff.role != StaffRole.superadmin:
        await callback.answer(_("Your role fixes the city."), show_alert=True)
        return
    if key == "kindergarten" and staff.role == StaffRole.kindergarten_admin:
        await callback.answer(_("Your role fixes the kindergarten."), show_alert=True)
        return
    manager.dialog_data.update(key=key, search="")
    await manager.switch_to(BroadcastSG.choice)


async def on_continue(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    try:
        view = await broadcasts.describe_audience(staff_of(manager), _audience(manager))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    if view.count == 0:
        await callback.answer(_("Nobody matches these filters."), show_alert=True)
        return
    manager.dialog_data.update(audience=view.audience, count=view.count)
    await manager.switch_to(BroadcastSG.confirm)


async def on_typed(message: Message, widget: object, manager: DialogManager) -> None:
    """Power users may type the whole audience as one line instead of pressing buttons; while
    the kindergarten list is open, any other text searches it by name or number."""
    text = clean_typed(message.text)  # a search or filters, never a broadcast text
    searching = manager.current_context().state == BroadcastSG.choice
    if searching and manager.dialog_data.get("key") == "kindergarten":
        if not is_audience_line(text):
            manager.dialog_data["search"] = text.strip()
            return
    audience = parse_audience(text)
    if audience is None:
        await message.answer(_("I did not understand the filters. Please check them."))
        manager.show_mode = ShowMode.NO_UPDATE
        return
    try:
        staff = staff_of(manager)
        scoped = await broadcasts.scoped_audience(staff, audience)
        count = await broadcasts.count_recipients(scoped)
    except DomainError as exc:
        await message.answer(error_text(exc))
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data.update(audience=scoped, count=count)
    await manager.switch_to(BroadcastSG.confirm, show_mode=ShowMode.SEND)


# --- one filter's choices -------------------------------------------------------------------


async def choice_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    """The choices of the filter being changed: "all" first, the current one ticked."""
    data, staff = dialog_manager.dialog_data, staff_of(dialog_manager)
    audience, key = _audience(dialog_manager), data["key"]
    user = user_of(dialog_manager)
    everyone: list[tuple[str, str]] = [(ALL, _("all"))]
    if key == "city":
        cities = await broadcasts.cities_in_scope(staff)
        prompt = _("Choose the city:")
        values = [(c.code, texts.name(c, user)) for c in cities]
    elif key == "kindergarten":
        search = data.get("search", "")
        found = await broadcasts.audience_kindergartens(
            staff, audience, search=search, limit=AUDIENCE_LIST_LIMIT + 1
        )
        values = [(str(kg.id), texts.name(kg, user)) for kg in found[:AUDIENCE_LIST_LIMIT]]
        prompt = _("Choose the kindergarten or send a part of its name or its number to find it:")
        if len(found) > AUDIENCE_LIST_LIMIT:
            prompt += "\n" + _("Only the first {count} are shown.").format(
                count=AUDIENCE_LIST_LIMIT
            )
        if search and not found:
            prompt, everyone = _("No kindergarten in your scope matches this."), []
    elif key == "birth_year":
        prompt = _("Choose the children's year of birth:")
        values = [(str(y), str(y)) for y in await broadcasts.birth_years(staff, audience)]
    else:
        prompt = {
            "language": _("Choose the parents' language:"),
            "queue_type": _("Choose the queue:"),
            "status": _("Choose the status of the applications:"),
        }[key]
        values = [(v, texts.filter_value(key, v)) for v in broadcasts.CHOICES[key]]
    current = audience.get(key)
    current = ALL if current is None else str(current)
    offer(dialog_manager, "value", [value for value, _label in everyone + values])
    return {
        "prompt": prompt,
        "everyone": _ticked(everyone, current),
        "values": _ticked(values, current),
        "by_four": key == "birth_year",
        "by_one": key != "birth_year",
    }


async def on_value(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        value = accept(manager, "value", item_id)
        audience = await broadcasts.audience_with(
            staff_of(manager),
            _audience(manager),
            manager.dialog_data["key"],
            "" if value == ALL else value,
        )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    manager.dialog_data["audience"] = audience
    await manager.switch_to(BroadcastSG.audience)


# --- preview and send -----------------------------------------------------------------------


async def preview_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    """The confirmation repeats who receives it: every filter and the count, counted now."""
    data = dialog_manager.dialog_data
    view, filters = await _filters(dialog_manager)
    data["count"] = view.count
    return {
        "audience": esc("\n".join(label for _key, label in filters)),
        "count": format_decimal(view.count, locale=texts.locale(user_of(dialog_manager))),
        "kk": esc(data["text_kk"]),
        "ru": esc(data["text_ru"]),
    }


async def on_send(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    data = manager.dialog_data
    message = callback.message
    assert isinstance(message, Message)  # the preview the button sits under
    await message.edit_reply_markup(reply_markup=None)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    progress = await message.answer(_("Broadcast: preparing…"))
    try:
        broadcast = await broadcasts.create_broadcast(
            staff_of(manager),
            data["text_kk"],
            data["text_ru"],
            data.get("audience") or {},
            progress_chat_id=progress.chat.id,
            progress_message_id=progress.message_id,
        )
    except DomainError as exc:
        await progress.edit_text(error_text(exc))
        return
    await progress.edit_text(
        _(
            "Broadcast #{id}: {total} recipients. Progress appears here; /broadcast stop pauses it."
        ).format(id=broadcast.id, total=broadcast.total)
    )


async def on_cancel(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Cancelled."))


# --- helpers --------------------------------------------------------------------------------


def _audience(manager: DialogManager) -> dict[str, Any]:
    audience: dict[str, Any] = manager.dialog_data.get("audience") or {}
    return audience


def _shown(audience: dict[str, Any], key: str) -> str:
    return texts.filter_value(key, audience.get(key))


def _ticked(options: list[tuple[str, str]], current: str) -> list[tuple[str, str]]:
    return [(value, ("✓ " if value == current else "") + label) for value, label in options]
