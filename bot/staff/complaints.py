"""/complaints: the complaints staff may answer, in ONE message edited in place, a page at a time.

Who sees what is decided by the core (core.complaints.handling): an operator the complaints
about kindergartens of their city, the superadmin those about departments and every overdue
one, the anti-corruption officer the corruption reports. A card shows the text, the deadline,
the parent masked (or "anonymous"), and Take into work / Answer / the attachment. The answer is
typed, previewed as the parent will read it, then sent; the parent is told of each step.

The anti-corruption officer is staff of no queue tool: this module also gives that role its
/start menu, /help and a polite answer to the queue commands.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Column, Row, SwitchTo
from aiogram_dialog.widgets.text import Format
from babel.numbers import format_decimal

from bot.dialogs.common import Tr, Window, pick_list, settings_of
from bot.filters import STAFF_COMMANDS, IsStaff, MayBeStaff
from bot.staff import menu
from bot.staff import texts as staff_texts
from bot.staff.answers import close_with
from bot.staff.context import accept, offer, staff_of, user_of
from bot.staff.inputs import typed_text
from bot.staff.states import StaffComplaintSG
from bot.texts.formats import esc
from bot.texts.labels import complaint_category, complaint_status
from bot.texts.reasons import error_text
from core.complaints import figures, handling
from core.complaints.handling import ComplaintView
from core.models import StaffMember, StaffRole
from core.platform.errors import DomainError

READERS = (StaffRole.operator, StaffRole.superadmin, StaffRole.anticorruption)


def may_read(staff: StaffMember) -> bool:
    return staff.role in READERS


PREVIEW = 160  # characters of a complaint's text in the list


def make_router() -> Router:
    """/complaints for every role that reads complaints, and the anti-corruption officer's menu
    (that role passes none of the queue tools' gate)."""
    router = Router(name="staff.complaints")
    maybe = MayBeStaff((StaffComplaintSG,), ())
    router.message.filter(maybe, IsStaff(READERS))
    router.callback_query.filter(maybe, IsStaff(READERS))
    router.message.register(start_list, Command("complaints"))
    officer = IsStaff((StaffRole.anticorruption,))
    router.message.register(officer_start, CommandStart(), officer)
    router.message.register(officer_help, Command("help"), officer)
    router.message.register(
        officer_other_tool, Command(*(c for c in STAFF_COMMANDS if c != "complaints")), officer
    )
    dialog = make_dialog()
    dialog.message.filter(~F.text.startswith("/"))
    router.include_router(dialog)
    return router


async def start_list(message: Message, staff: StaffMember, dialog_manager: DialogManager) -> None:
    await dialog_manager.start(StaffComplaintSG.complaints, mode=StartMode.RESET_STACK)


async def officer_start(message: Message, staff: StaffMember, bot: Bot) -> None:
    await menu.set_menu(bot, staff)
    raise SkipHandler  # the main menu as for everybody


async def officer_help(message: Message, staff: StaffMember, bot: Bot) -> None:
    await menu.set_menu(bot, staff)
    await message.answer(menu.staff_help(staff))


async def officer_other_tool(message: Message, staff: StaffMember) -> None:
    await message.answer(_("Your role handles reports of corruption only: /complaints lists them."))


def make_dialog() -> Dialog:
    sg = StaffComplaintSG
    return Dialog(
        Window(
            Tr("<b>Complaints: {shown}</b>"),
            Format("{rows}", when="rows"),
            Tr("No complaints here.", when="nothing"),
            Column(pick_list("cmp", "complaints", on_open)),
            Row(
                Button(Format("◀"), id="prev", on_click=on_prev, when="has_prev"),
                Button(Format("{page}/{pages}"), id="pages", when="many"),
                Button(Format("▶"), id="next", on_click=on_next, when="has_next"),
            ),
            Button(Tr("Show answered too"), id="all", on_click=on_toggle, when="open_only"),
            Button(Tr("Show open only"), id="open", on_click=on_toggle, when="show_all"),
            Button(Tr("Close"), id="close", on_click=on_close),
            getter=list_getter,
            state=sg.complaints,
        ),
        Window(
            Format("{card}"),
            Button(Tr("Show the attachment"), id="file", on_click=on_file, when="has_file"),
            Button(Tr("Take into work"), id="take", on_click=on_take, when="can_take"),
            SwitchTo(Tr("Answer"), id="answer", state=sg.answer, when="can_answer"),
            SwitchTo(Tr("Back to the list"), id="back", state=sg.complaints),
            getter=card_getter,
            state=sg.complaint,
        ),
        Window(
            Tr(
                "Type the answer to complaint №{number}. The parent receives it as you write "
                "it, under a heading in their language."
            ),
            SwitchTo(Tr("Cancel"), id="cancel", state=sg.complaint),
            *typed_text(on_answer_typed),
            getter=card_getter,
            state=sg.answer,
        ),
        Window(
            Tr("The parent will receive:"),
            Format("<blockquote>{answer}</blockquote>"),
            Tr("Send this answer to complaint №{number}?"),
            Row(
                Button(Tr("Send the answer"), id="send", on_click=on_send),
                SwitchTo(Tr("Change"), id="edit", state=sg.answer),
            ),
            SwitchTo(Tr("Cancel"), id="cancel", state=sg.complaint),
            getter=confirm_getter,
            state=sg.answer_confirm,
        ),
    )


# --- the page ---------------------------------------------------------------------------------


async def list_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    data = manager.dialog_data
    staff, user = staff_of(manager), user_of(manager)
    open_only = not data.get("all", False)
    rows, pages = await handling.page_of(staff, page=int(data.get("page", 0)), open_only=open_only)
    page = min(int(data.get("page", 0)), pages - 1)
    data["page"] = page
    offer(manager, "cmp", [row.id for row in rows])
    settings = settings_of(manager)
    lines = [_row(row, user, settings) for row in rows]
    return {
        "shown": _("open") if open_only else _("all"),
        "rows": "\n\n".join(lines),
        "nothing": not rows,
        "complaints": [(row.id, _button(row)) for row in rows],
        "page": page + 1,
        "pages": pages,
        "many": pages > 1,
        "has_prev": page > 0,
        "has_next": page + 1 < pages,
        "open_only": open_only,
        "show_all": not open_only,
    }


def _button(row: ComplaintView) -> str:
    mark = "⚠️ " if row.overdue else ""
    return f"{mark}№{row.number} · {complaint_category(row.category)}"


def _row(row: ComplaintView, user: Any, settings: Any) -> str:
    text = row.text if len(row.text) <= PREVIEW else row.text[: PREVIEW - 1] + "…"
    lines = [
        f"<b>№{row.number}</b> · {esc(complaint_category(row.category))} · "
        f"{esc(complaint_status(row.status))}",
        _("Answer due by: {when}").format(when=staff_texts.when(row.deadline, user, settings))
        + (" ⚠️ " + _("overdue") if row.overdue else ""),
        f"<i>{esc(text)}</i>",
    ]
    return "\n".join(lines)


async def on_prev(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["page"] = max(int(manager.dialog_data.get("page", 0)) - 1, 0)


async def on_next(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["page"] = int(manager.dialog_data.get("page", 0)) + 1


async def on_toggle(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["all"] = not manager.dialog_data.get("all", False)
    manager.dialog_data["page"] = 0


async def on_close(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("The list of complaints is closed."))


async def on_open(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        complaint_id = int(accept(manager, "cmp", item_id))
        await handling.view_of(staff_of(manager), complaint_id)
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    manager.dialog_data["complaint_id"] = complaint_id
    await manager.switch_to(StaffComplaintSG.complaint)


# --- one complaint ----------------------------------------------------------------------------


async def _current(manager: DialogManager) -> ComplaintView:
    return await handling.view_of(staff_of(manager), int(manager.dialog_data["complaint_id"]))


async def card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    view = await _current(manager)
    user = user_of(manager)
    settings = settings_of(manager)
    lines = [
        f"<b>№{view.number}</b> · {esc(complaint_category(view.category))}",
        _("Status: {status}").format(status=esc(complaint_status(view.status))),
        _("Filed: {when}").format(when=staff_texts.when(view.created_at, user, settings)),
        _("Answer due by: {when}").format(when=staff_texts.when(view.deadline, user, settings))
        + (" ⚠️ " + _("overdue") if view.overdue else ""),
    ]
    if view.escalated:
        lines.append(_("Escalated to the superadmin: not answered in time."))
    if view.kindergarten:
        name = staff_texts.pick(view.kindergarten, view.kindergarten_kk or "", user)
        lines.append(_("Kindergarten: {name}").format(name=esc(name)))
    lines.append(
        _("Parent: {name}").format(name=esc(view.parent)) if view.parent else _("Parent: anonymous")
    )
    if view.subject:
        lines.append(_("About: №{number}").format(number=esc(view.subject)))
    lines += ["", f"<blockquote>{esc(view.text)}</blockquote>"]
    if view.answer:
        lines += [_("Answer sent:"), f"<blockquote>{esc(view.answer)}</blockquote>"]
    answerable = view.status != "answered"
    return {
        "card": "\n".join(lines),
        "number": view.number,
        "has_file": view.attachment_file_id is not None,
        "can_take": view.status == "registered",
        "can_answer": answerable,
    }


async def on_file(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    view = await _current(manager)
    if view.attachment_file_id is None or callback.message is None:
        return
    caption = _("Attachment of complaint №{number}").format(number=view.number)
    if (view.attachment_mime or "").startswith("image/"):
        await callback.message.answer_photo(view.attachment_file_id, caption=caption)
    else:
        await callback.message.answer_document(view.attachment_file_id, caption=caption)
    manager.show_mode = ShowMode.SEND


async def on_take(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    try:
        await handling.take(staff_of(manager), int(manager.dialog_data["complaint_id"]))
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)


async def on_answer_typed(message: Message, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["answer"] = (message.text or "").strip()
    await manager.switch_to(StaffComplaintSG.answer_confirm, show_mode=ShowMode.SEND)


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    view = await _current(dialog_manager)
    return {"answer": esc(dialog_manager.dialog_data.get("answer", "")), "number": view.number}


async def on_send(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    try:
        view = await handling.answer(
            staff_of(manager),
            int(manager.dialog_data["complaint_id"]),
            str(manager.dialog_data.get("answer", "")),
        )
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)
        await manager.switch_to(StaffComplaintSG.complaint)
        return
    manager.dialog_data.pop("answer", None)
    if callback.message is not None:
        await callback.message.answer(
            _("The answer to complaint №{number} is sent; the parent is told.").format(
                number=view.number
            )
        )
    await manager.switch_to(StaffComplaintSG.complaint, show_mode=ShowMode.SEND)


# --- /stats -----------------------------------------------------------------------------------


async def figures_text(staff: StaffMember, locale: str) -> str:
    """The complaint figures per category of the staff member's scope, for /stats."""
    lines = [_("<b>Complaints</b> (filed / answered / open / overdue)")]
    for row in await figures.by_category(staff):
        numbers = " / ".join(
            format_decimal(value, locale=locale)
            for value in (row.filed, row.answered, row.open, row.overdue)
        )
        lines.append(f"{esc(complaint_category(row.category))}: {numbers}")
    return "\n".join(lines)
