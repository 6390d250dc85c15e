"""Proof in the public log: the receipts of one application, newest first, then one of them with
its file (issue 19).

Opened from the application card and the referral card of the cabinet, from the submission's
success message and from the button under a notification of a queue or referral event. A receipt
shows the public entry in readable form (what happened, when, in which kindergarten), its index
in the log and the signed checkpoint that covers it, and comes as `receipt-<number>-<seq>.json`:
the file the public page and `indigo-verify receipt` check without trusting the bot.
"""

from __future__ import annotations

import operator
from typing import Any

from aiogram import Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Cancel, Column, ScrollingGroup, Select, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.callbacks import ProofOf
from bot.dialogs import common
from bot.dialogs.common import Tr, Window
from bot.dialogs.states import ReceiptsSG
from bot.texts.formats import esc, fmt_datetime
from bot.texts.reasons import error_text
from core.ledger import receipts
from core.platform.errors import DomainError
from core.views import cabinet

PAGE_SIZE = 6  # receipts per page of the list
ROOT_SHOWN = 16  # characters of the checkpoint's root shown in the message


def N_(text: str) -> str:
    """Mark a string for extraction without translating it here."""
    return text


# What an entry of the log says happened, by its audit action (the code itself otherwise).
ACTIONS = {
    "application.registered": N_("Application registered"),
    "application.withdrawn": N_("Application withdrawn"),
    "application.stop_listed": N_("Application moved to the stop-list"),
    "application.restored": N_("Application back in the queue"),
    "application.archived": N_("Application closed"),
    "application.extended": N_("Application extended"),
    "application.choices_changed": N_("Kindergartens changed"),
    "benefit.changed": N_("Benefit changed"),
    "benefit.confirmed": N_("Benefit confirmed"),
    "benefit.rejected": N_("Benefit not confirmed"),
    "offer.created": N_("Seat offered"),
    "offer.declined": N_("Seat offer declined"),
    "offer.lapsed": N_("Seat offer lapsed"),
    "referral.issued": N_("Referral issued"),
    "referral.extended": N_("Referral extended"),
    "referral.benefit_confirmed": N_("Referral valid after the benefit check"),
    "referral.enrolled": N_("Child enrolled"),
    "referral.expired": N_("Referral expired"),
    "referral.declined": N_("Referral declined"),
    "referral.revoked": N_("Referral revoked"),
    "referral.annulled": N_("Referral annulled"),
    "referral.departed": N_("Child left the kindergarten"),
    "referral.departed.undone": N_("Child's departure undone"),
    "seat.taken": N_("Seat taken"),
    "seat.returned": N_("Seat returned"),
}


def action_label(action: str) -> str:
    msgid = ACTIONS.get(action)
    return _(msgid) if msgid else esc(action)


def proof_button_text() -> str:
    """The caption of every button that opens the receipts (cards, success, notifications)."""
    return _("Proof in the public log")


# --- starting: from a card (an id of the parent's own) or a button carrying a number ----------


async def start_receipts(manager: DialogManager, application_id: int) -> None:
    """Open the receipts of one of the parent's applications above the current conversation."""
    await manager.start(ReceiptsSG.receipts, data={"application_id": int(application_id)})


async def on_open_by_number(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    """The submission's success message: its dialog data holds the new application's number."""
    try:
        application_id = await receipts.owned_application_id(
            common.applicant_id(manager), int(manager.dialog_data["number"])
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    await start_receipts(manager, application_id)


def make_router() -> Router:
    """The "Proof in the public log" button under a notification (plain, outside any dialog),
    fresh for each Dispatcher."""
    router = Router(name=__name__)
    router.callback_query.register(proof_button, ProofOf.filter())
    return router


async def proof_button(
    callback: CallbackQuery,
    callback_data: ProofOf,
    callback_answer: CallbackAnswer,
    dialog_manager: DialogManager,
) -> None:
    """The button carries the application's number, which anyone can type: the core answers
    only for the parent's own application; any other is refused in the parent's language."""
    try:
        application_id = await receipts.owned_application_id(
            common.applicant_id(dialog_manager), callback_data.number
        )
    except DomainError as error:
        callback_answer.text = error_text(error)
        callback_answer.show_alert = True
        return
    await dialog_manager.start(
        ReceiptsSG.receipts,
        data={"application_id": application_id},
        mode=StartMode.RESET_STACK,
    )


def _application_id(manager: DialogManager) -> int:
    return int(common.start_data(manager)["application_id"])


# --- the list -----------------------------------------------------------------------------------


async def receipts_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    entries = await receipts.receipts_for_applicant(common.applicant_id(m), _application_id(m))
    tz, language = common.tz_of(m), common.locale_of(m)
    items = [
        (
            str(entry.seq),
            f"#{entry.seq} · {action_label(entry.action)} · {fmt_datetime(entry.at, tz, language)}",
        )
        for entry in entries
    ]
    return {"title": proof_button_text(), "items": items, "no_items": not items}


async def on_receipt_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    """Send the receipt file, then the receipt's message below it (with the way back)."""
    try:
        view = await receipts.receipt_for_applicant(
            common.applicant_id(manager), _application_id(manager), int(item_id)
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    if callback.message is None:  # Telegram leaves it out only for inline-mode messages
        raise LookupError("the pressed button has no message to answer")
    await callback.message.answer_document(
        BufferedInputFile(view.text.encode(), filename=view.filename),
        caption=_("Receipt of application №{number}, entry #{seq}").format(
            number=view.number, seq=view.seq
        ),
    )
    manager.dialog_data["seq"] = view.seq
    await manager.switch_to(ReceiptsSG.receipt, show_mode=ShowMode.SEND)


# --- one receipt --------------------------------------------------------------------------------


async def receipt_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    view = await receipts.receipt_for_applicant(
        common.applicant_id(m), _application_id(m), int(m.dialog_data["seq"])
    )
    return {"receipt_text": await receipt_text(view, m)}


async def receipt_text(view: receipts.ReceiptView, manager: DialogManager) -> str:
    """The receipt as the parent reads it: the entry, its place in the log, how to check it."""
    language = common.locale_of(manager)
    lines = [
        "<b>" + proof_button_text() + "</b>",
        _("Application №{number}").format(number=view.number),
        _("Entry: {action}").format(action=action_label(view.action)),
        _("Time: {when}").format(when=fmt_datetime(view.at, common.tz_of(manager), language)),
    ]
    names = await cabinet.kindergarten_names(view.kindergarten_ids)
    for kg in view.kindergarten_ids:
        if kg in names:
            name = common.localized(manager, *names[kg])
            lines.append(_("Kindergarten: {name}").format(name=esc(name)))
    lines += [
        _("Index in the log: {seq}").format(seq=view.seq),
        _("Checkpoint: tree size {size}, root {root}…").format(
            size=view.size, root=esc(view.root[:ROOT_SHOWN])
        ),
        _("In the log the application is named only by the tag {tag}.").format(
            tag=f"<code>{esc(view.app_tag)}</code>"
        ),
        "",
        _(
            "How to check it without trusting the bot: paste the file {file} on the public "
            "page /public, or run"
        ).format(file=f"<code>{esc(view.filename)}</code>"),
        f"<code>indigo-verify receipt {esc(view.filename)}</code>",
    ]
    return "\n".join(lines)


def make_dialog() -> Dialog:
    """Proof in the public log, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Format("<b>{title}</b>"),
            Tr("The entries of this application in the public log, newest first."),
            Tr("There are no entries yet.", when="no_items"),
            ScrollingGroup(
                Select(
                    Format("{item[1]}"),
                    id="receipt",
                    item_id_getter=operator.itemgetter(0),
                    items="items",
                    on_click=on_receipt_chosen,
                ),
                id="receipt_pages",
                width=1,
                height=PAGE_SIZE,
                hide_on_single_page=True,
            ),
            Cancel(Tr("Back")),
            common.hint(),
            getter=receipts_getter,
            state=ReceiptsSG.receipts,
        ),
        Window(
            Format("{receipt_text}"),
            Column(
                SwitchTo(Tr("All receipts"), id="receipts_back", state=ReceiptsSG.receipts),
                Cancel(Tr("Close")),
            ),
            common.hint(),
            getter=receipt_getter,
            state=ReceiptsSG.receipt,
        ),
    )
