"""The "Undo" button under the result of a staff decision (an enrolment, a revocation, a child's
departure, a benefit decision, a seat release): it asks first ("Undo ...? The parent will be
told."; for a release, how many seats are withdrawn, offers lapse and referrals stay), then
undoes through the core (core.referrals.undo: the window, the scope, the seat still free), which
tells the parents."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode

from bot.callbacks import Undoable, UndoCb
from bot.dialogs.common import outdated_button_text
from bot.texts.reasons import error_text
from core.models import SeatRelease, StaffMember
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.referrals.undo import (
    ReleaseUndo,
    preview_release_undo,
    undo_benefit_decision,
    undo_dismissal,
    undo_enrolment,
    undo_release,
    undo_revocation,
    undo_subject,
)

# A forged id: no such row, so the button cannot be one the bot showed.
_NOT_A_ROW = {Reason.referral_not_found, Reason.application_not_found}


def make_router() -> Router:
    """Staff only: the router that includes this one checks."""
    router = Router(name="staff.undo")
    router.callback_query.register(undo_pressed, UndoCb.filter())
    return router


def undo_markup(what: Undoable, row_id: int) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(
        text=_("Undo"), callback_data=UndoCb(what=what, step="ask", row=row_id).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def close_with_undo(
    callback: CallbackQuery, manager: DialogManager, text: str, what: Undoable, row_id: int
) -> None:
    """End a decision dialog: its last screen is the outcome with an "Undo" button."""
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=undo_markup(what, row_id))
    await manager.done(show_mode=ShowMode.NO_UPDATE)


async def undo_pressed(
    query: CallbackQuery, callback_data: UndoCb, staff: StaffMember, settings: Settings
) -> None:
    what, row = callback_data.what, callback_data.row
    if what == "release":
        await _release_pressed(query, callback_data, staff, settings)
        return
    try:
        number = await undo_subject(what, row, staff)
        if callback_data.step == "do":
            await _undo(what, row, staff, settings)
    except DomainError as exc:
        shown = outdated_button_text() if exc.reason in _NOT_A_ROW else error_text(exc)
        await query.answer(shown, show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.step == "ask":
        buttons = [
            InlineKeyboardButton(
                text=_("Undo"), callback_data=UndoCb(what=what, step="do", row=row).pack()
            ),
            InlineKeyboardButton(
                text=_("Keep it"), callback_data=UndoCb(what=what, step="keep", row=row).pack()
            ),
        ]
        await query.message.edit_text(
            _question(what).format(number=number),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons]),
        )
    elif callback_data.step == "keep":
        await query.message.edit_text(_("Nothing was undone."), reply_markup=undo_markup(what, row))
    else:
        await query.message.edit_text(_done(what).format(number=number))


async def _release_pressed(
    query: CallbackQuery, callback_data: UndoCb, staff: StaffMember, settings: Settings
) -> None:
    """A release: the question counts what is withdrawn, what lapses and what stays."""
    row, step = callback_data.row, callback_data.step
    if not await SeatRelease.exists(id=row):  # a forged id
        await query.answer(outdated_button_text(), show_alert=True)
        return
    try:
        if step == "do":
            undone = await undo_release(row, staff, settings=settings)
        elif step == "ask":
            undone = await preview_release_undo(row, staff, settings=settings)
    except DomainError as exc:
        await query.answer(error_text(exc), show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if step == "keep":
        await query.message.edit_text(
            _("Nothing was undone."), reply_markup=undo_markup("release", row)
        )
        return
    if step == "do":
        await query.message.edit_text(_release_done(undone))
        return
    buttons = [
        InlineKeyboardButton(
            text=_("Undo"), callback_data=UndoCb(what="release", step="do", row=row).pack()
        ),
        InlineKeyboardButton(
            text=_("Keep it"), callback_data=UndoCb(what="release", step="keep", row=row).pack()
        ),
    ]
    await query.message.edit_text(
        _release_question(undone), reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons])
    )


def _release_question(undo: ReleaseUndo) -> str:
    text = _(
        "Undo this seat release? Seats withdrawn (nobody took them yet): {withdrawn} of {seats}."
    ).format(withdrawn=undo.withdrawn, seats=undo.seats)
    if undo.lapsed:
        text += "\n" + _(
            "Offers that lapse: {lapsed}. Those parents will be told the seat is gone; their "
            "place in the queue is kept."
        ).format(lapsed=undo.lapsed)
    if undo.kept:
        text += "\n" + _("Referrals already issued from this release stay valid: {kept}.").format(
            kept=undo.kept
        )
    return text


def _release_done(undo: ReleaseUndo) -> str:
    text = _("The seat release is undone. Seats withdrawn: {withdrawn}.").format(
        withdrawn=undo.withdrawn
    )
    if undo.lapsed:
        text += "\n" + _("Offers lapsed, parents notified: {lapsed}.").format(lapsed=undo.lapsed)
    if undo.kept:
        text += "\n" + _("Referrals kept: {kept}.").format(kept=undo.kept)
    return text


async def _undo(what: str, row: int, staff: StaffMember, settings: Settings) -> None:
    if what == "enrol":
        await undo_enrolment(row, staff, settings=settings)
    elif what == "revoke":
        await undo_revocation(row, staff, settings=settings)
    elif what == "dismiss":
        await undo_dismissal(row, staff, settings=settings)
    else:
        await undo_benefit_decision(row, staff, settings=settings)


def _question(what: str) -> str:
    if what == "enrol":
        return _("Undo the enrolment on referral #{number}? The parent will be told.")
    if what == "revoke":
        return _("Undo the revocation of referral #{number}? The parent will be told.")
    if what == "dismiss":
        return _(
            "Undo the departure of the child on referral #{number}? The child will be enrolled "
            "again. The parent will be told."
        )
    return _("Undo the benefit decision on application #{number}? The parent will be told.")


def _done(what: str) -> str:
    if what == "enrol":
        return _("The enrolment on referral #{number} is undone; the parent is notified.")
    if what == "revoke":
        return _("The revocation of referral #{number} is undone; the parent is notified.")
    if what == "dismiss":
        return _(
            "The departure on referral #{number} is undone: the child is enrolled again; the "
            "parent is notified."
        )
    return _("The benefit decision on application #{number} is undone; the parent is notified.")
