"""/dismiss: the kindergarten records that an enrolled child has left it. Starts from the
referral's number or the application's; refuses before any preview a referral outside the staff
member's scope, one not enrolled and one already departed (each with its reason). Then: why the
child left (common reasons as buttons, or typed), a preview of whom it touches and the date of
leaving (today, or another day typed from the enrolment on), Confirm. The
child no longer takes a seat of the group, so staff may release it afterwards (/release); the
parent is told, and the result carries an "Undo" (core.referrals.undo.undo_dismissal).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Column, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.common import Tr, Window, locale_of, pick_list, settings_of, start_data
from bot.notifications.sms import DEPARTURE_REASONS
from bot.staff.answers import close_with
from bot.staff.context import accept, offer, staff_of
from bot.staff.decisions import card_text
from bot.staff.inputs import typed_text
from bot.staff.referrals import MAX_NUMBER_LENGTH
from bot.staff.states import DismissalSG
from bot.staff.undo import close_with_undo
from bot.texts.formats import esc, fmt_date
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import DepartureReason, Kindergarten, Referral, ReferralStatus, StaffMember
from core.people import staff as staff_service
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.referrals.cards import referral_card
from core.referrals.departures import (
    NOTE_LENGTH,
    check_left_on,
    dismiss,
    enrolled_referral,
    refuse_departed,
)


def make_router() -> Router:
    """Staff only: the router that includes this one checks."""
    router = Router(name="staff.dismissals")
    router.message.register(dismiss_command, Command("dismiss"))
    return router


def make_dialog() -> Dialog:
    sg = DismissalSG
    cancel = Button(Tr("Cancel"), id="cancel", on_click=on_cancel)
    return Dialog(
        Window(
            Tr("Why did the child on referral #{number} leave the kindergarten?"),
            Format("{card}"),
            Column(pick_list("why", "reasons", on_reason)),
            cancel,
            getter=reasons_getter,
            state=sg.reason,
        ),
        Window(
            Tr("Type why the child left (up to {limit} characters); the parent will read it."),
            *typed_text(on_typed_reason),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.reason), cancel),
            getter=limit_getter,
            state=sg.reason_text,
        ),
        Window(
            Tr("Record that the child on referral #{number} has left the kindergarten?"),
            Format("{card}"),
            Tr("Reason: {reason}"),
            Tr("Date of leaving: {date}"),
            Tr(
                "The child will no longer take a seat in the group: you may release it with "
                "/release. The parent will be notified."
            ),
            SwitchTo(Tr("Another date of leaving"), id="date", state=sg.left_on),
            Row(
                Button(Tr("Confirm"), id="ok", on_click=on_dismiss),
                SwitchTo(Tr("Back"), id="back", state=sg.reason),
                cancel,
            ),
            getter=confirm_getter,
            state=sg.confirm,
        ),
        Window(
            Tr("Type the date the child left as DD.MM.YYYY."),
            *typed_text(on_typed_date),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.confirm), cancel),
            state=sg.left_on,
        ),
    )


async def dismiss_command(
    message: Message, command: CommandObject, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    number = clean_typed(command.args)
    if not number:
        await message.answer(_("Usage: /dismiss NUMBER (the referral or application number)"))
        return
    try:
        referral = await _enrolled(staff, number)
    except DomainError as exc:
        await message.answer(error_text(exc))
        return
    await dialog_manager.start(
        DismissalSG.reason,
        data={"referral_id": referral.id, "number": referral.number},
        mode=StartMode.RESET_STACK,
    )


# --- the preview ------------------------------------------------------------------------------


async def card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    card = await referral_card(start_data(dialog_manager)["referral_id"])
    return {"number": card.number, "card": card_text(card)}


async def reasons_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    offer(dialog_manager, "why", [str(code) for code in DepartureReason])
    return await card_getter(dialog_manager) | {"reasons": reason_choices()}


async def limit_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"limit": NOTE_LENGTH}


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    picked = _reason(dialog_manager)
    return await card_getter(dialog_manager) | {
        "reason": reason_shown(picked),
        "date": fmt_date(_left_on(dialog_manager), locale_of(dialog_manager)),
    }


def reason_choices() -> list[tuple[str, str]]:
    """(code, label) pairs for the reason buttons, in the staff member's language."""
    return [
        (
            str(code),
            _("Other: type the reason")
            if code is DepartureReason.other
            else _(DEPARTURE_REASONS[str(code)]),
        )
        for code in DepartureReason
    ]


def reason_shown(reason: dict[str, str]) -> str:
    """A picked reason in the staff member's language, a typed one as typed (escaped)."""
    if reason.get("code") in DEPARTURE_REASONS:
        return _(DEPARTURE_REASONS[reason["code"]])
    return esc(reason.get("text", ""))


async def on_reason(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        code = accept(manager, "why", item_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    if code == DepartureReason.other:
        await manager.switch_to(DismissalSG.reason_text)
        return
    manager.dialog_data["reason"] = {"code": code, "text": ""}
    await manager.switch_to(DismissalSG.confirm)


async def on_typed_reason(message: Message, widget: object, manager: DialogManager) -> None:
    text = " ".join((message.text or "").split())[:NOTE_LENGTH]
    if not text:
        await message.answer(_("Please type the answer as text."))
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data["reason"] = {"code": str(DepartureReason.other), "text": text}
    manager.show_mode = ShowMode.SEND  # the preview below the typed reason
    await manager.switch_to(DismissalSG.confirm)


async def on_typed_date(message: Message, widget: object, manager: DialogManager) -> None:
    manager.show_mode = ShowMode.SEND  # the preview (or the question again) below the answer
    try:
        left_on = datetime.strptime((message.text or "").strip(), "%d.%m.%Y").date()
    except ValueError:
        # say it was refused: the same question again reads like an echo ("31.02.2026")
        await message.answer(
            _(
                "This is not a date. Type the date the child left as DD.MM.YYYY, for example {day}."
            ).format(day=local_today(settings_of(manager)).strftime("%d.%m.%Y"))
        )
        manager.show_mode = ShowMode.NO_UPDATE
        return
    referral = await Referral.get(id=start_data(manager)["referral_id"])
    try:
        check_left_on(referral, left_on, settings_of(manager))
    except DomainError as exc:
        await message.answer(error_text(exc))
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data["left_on"] = left_on.isoformat()
    await manager.switch_to(DismissalSG.confirm)


# --- acting -----------------------------------------------------------------------------------


async def on_dismiss(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    staff, data = staff_of(manager), start_data(manager)
    reason = _reason(manager)
    try:
        referral = await _enrolled(staff, str(data["number"]))
        await dismiss(
            referral.id,
            reason["code"],
            staff,
            settings=settings_of(manager),
            note=reason["text"],
            left_on=_left_on(manager),
        )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    done = _(
        "Referral #{number}: the child's departure is recorded; the parent is notified. "
        "The seat may be released with /release."
    ).format(number=referral.number)
    await close_with_undo(callback, manager, done, "dismiss", referral.id)


async def on_cancel(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Cancelled. Nothing was changed."))


# --- helpers ----------------------------------------------------------------------------------


def _left_on(manager: DialogManager) -> date:
    """The day typed under "Another date of leaving", else today."""
    typed = manager.dialog_data.get("left_on")
    return date.fromisoformat(typed) if typed else local_today(settings_of(manager))


def _reason(manager: DialogManager) -> dict[str, str]:
    picked = manager.dialog_data.get("reason")
    if isinstance(picked, dict):
        return {"code": str(picked.get("code", "")), "text": str(picked.get("text", ""))}
    return {"code": "", "text": ""}


async def _enrolled(staff: StaffMember, number: str) -> Referral:
    """The referral by its number, or the one an application (by its digits-only number) was
    enrolled on; refused when outside the scope, not enrolled, or already departed, as
    `dismiss` would refuse it (before any preview)."""
    if len(number) > MAX_NUMBER_LENGTH:
        raise DomainError(Reason.referral_not_found, number=number[:MAX_NUMBER_LENGTH])
    digits = number.strip().lstrip("#№")
    if digits.isdigit():
        referral = await enrolled_referral(int(digits))
        staff_service.check_scope(staff, await Kindergarten.get(id=referral.kindergarten_id))
    else:
        referral = await staff_service.referral_in_scope(staff, number)
    await refuse_departed(referral)
    if referral.status != ReferralStatus.enrolled:
        raise DomainError(Reason.referral_not_enrolled, number=referral.number)
    return referral
