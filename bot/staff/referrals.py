"""/enroll and /revoke: the kindergarten reports a referral used, or takes it back (its seat is
released again). Both start from the referral's number and show what will happen and to whom
(the child's masked name, the numbers, kindergarten and group) before anything changes; a
revocation asks why (common reasons as buttons, or typed). Both are audited with the staff
member as actor, and the parent is told (core.referrals.lifecycle).
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Column, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.common import Tr, Window, pick_list, settings_of, start_data
from bot.staff.answers import close_with
from bot.staff.context import accept, offer, staff_of
from bot.staff.decisions import REASON_LENGTH, card_text, reason_choices, reason_shown
from bot.staff.inputs import typed_text
from bot.staff.states import ReferralActionSG
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import Referral, StaffMember
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.referrals.benefits import REVOKE_REASONS, DecisionReason
from core.referrals.cards import referral_card
from core.referrals.lifecycle import enroll, revoke

# Referral.number's column width: a longer token is no referral number (and the database would
# refuse it as a filter value, which ended as "something went wrong").
MAX_NUMBER_LENGTH = 32


def make_router() -> Router:
    """Staff only: the router that includes this one checks."""
    router = Router(name="staff.referrals")
    router.message.register(enroll_command, Command("enroll"))
    router.message.register(revoke_command, Command("revoke"))
    return router


def make_dialog() -> Dialog:
    sg = ReferralActionSG
    cancel = Button(Tr("Cancel"), id="cancel", on_click=on_cancel)
    return Dialog(
        Window(
            Tr("Enrol the child on referral #{number}?"),
            Format("{card}"),
            Tr(
                "The referral is marked used and the application leaves the queue. "
                "The parent will be notified."
            ),
            Row(Button(Tr("Confirm"), id="ok", on_click=on_enroll), cancel),
            getter=card_getter,
            state=sg.enroll_confirm,
        ),
        Window(
            Tr("Why is referral #{number} revoked? Choose the reason the parent will read:"),
            Format("{card}"),
            Column(pick_list("why", "reasons", on_reason)),
            cancel,
            getter=reasons_getter,
            state=sg.revoke_reason,
        ),
        Window(
            Tr("Type the reason the parent will read (up to {limit} characters)."),
            *typed_text(on_typed_reason),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.revoke_reason), cancel),
            getter=limit_getter,
            state=sg.revoke_text,
        ),
        Window(
            Tr("Revoke referral #{number}?"),
            Format("{card}"),
            Tr("Reason: {reason}"),
            Tr(
                "The seat is released again for the next children in the queue; the application "
                "keeps its place. The parent will be notified."
            ),
            Row(
                Button(Tr("Confirm"), id="ok", on_click=on_revoke),
                SwitchTo(Tr("Back"), id="back", state=sg.revoke_reason),
                cancel,
            ),
            getter=revoke_getter,
            state=sg.revoke_confirm,
        ),
    )


async def enroll_command(
    message: Message, command: CommandObject, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    number = clean_typed(command.args)
    if not number:
        await message.answer(_("Usage: /enroll NUMBER (the referral number)"))
        return
    try:
        referral = await _referral(staff, number)
    except DomainError as exc:
        await message.answer(error_text(exc))
        return
    await dialog_manager.start(
        ReferralActionSG.enroll_confirm,
        data={"referral_id": referral.id, "number": referral.number},
        mode=StartMode.RESET_STACK,
    )


async def revoke_command(
    message: Message, command: CommandObject, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    """`/revoke NUMBER` asks for the reason; `/revoke NUMBER reason` goes to the preview."""
    number, _sep, reason = (command.args or "").strip().partition(" ")
    number = clean_typed(number)
    if not number:
        await message.answer(
            _("Usage: /revoke NUMBER [REASON] (the referral number, and why if you wish)")
        )
        return
    try:
        referral = await _referral(staff, number)
    except DomainError as exc:
        await message.answer(error_text(exc))
        return
    data = {"referral_id": referral.id, "number": referral.number}
    reason = reason.strip()[:REASON_LENGTH]
    await dialog_manager.start(
        ReferralActionSG.revoke_confirm if reason else ReferralActionSG.revoke_reason,
        data=data | ({"reason": reason} if reason else {}),
        mode=StartMode.RESET_STACK,
    )


# --- the preview ------------------------------------------------------------------------------


async def card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    card = await referral_card(start_data(dialog_manager)["referral_id"])
    return {"number": card.number, "card": card_text(card)}


async def reasons_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    offer(dialog_manager, "why", [str(code) for code in REVOKE_REASONS])
    return await card_getter(dialog_manager) | {"reasons": reason_choices(REVOKE_REASONS)}


async def limit_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"limit": REASON_LENGTH}


async def revoke_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return await card_getter(dialog_manager) | {"reason": reason_shown(_reason(dialog_manager))}


async def on_reason(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        code = accept(manager, "why", item_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    if code == DecisionReason.other:
        await manager.switch_to(ReferralActionSG.revoke_text)
        return
    manager.dialog_data["reason"] = {"code": code, "text": ""}
    await manager.switch_to(ReferralActionSG.revoke_confirm)


async def on_typed_reason(message: Message, widget: object, manager: DialogManager) -> None:
    text = (message.text or "").strip()[:REASON_LENGTH]
    if not text:
        await message.answer(_("Please type the answer as text."))
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data["reason"] = {"code": "", "text": text}
    manager.show_mode = ShowMode.SEND  # the preview below the typed reason
    await manager.switch_to(ReferralActionSG.revoke_confirm)


# --- acting -----------------------------------------------------------------------------------


async def on_enroll(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    staff, data = staff_of(manager), start_data(manager)
    try:
        referral = await _referral(staff, data["number"])
        await enroll(referral.id, actor=staff_service.actor(staff))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    done = _("Referral #{number}: the child is enrolled; the parent is notified.").format(
        number=referral.number
    )
    await close_with(callback, manager, done)


async def on_revoke(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    staff, data = staff_of(manager), start_data(manager)
    reason = _reason(manager)
    try:
        referral = await _referral(staff, data["number"])
        await revoke(
            referral.id,
            reason["text"],
            actor=staff_service.actor(staff),
            settings=settings_of(manager),
            reason_code=reason["code"],
        )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    done = _(
        "Referral #{number} is revoked; its seat is released again. The parent is notified."
    ).format(number=referral.number)
    await close_with(callback, manager, done)


async def on_cancel(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Cancelled. Nothing was changed."))


# --- helpers ----------------------------------------------------------------------------------


def _reason(manager: DialogManager) -> dict[str, str]:
    """The picked reason ({"code": ...}) or the typed one ({"text": ...})."""
    picked = manager.dialog_data.get("reason")
    if isinstance(picked, dict):
        return {"code": str(picked.get("code", "")), "text": str(picked.get("text", ""))}
    return {"code": "", "text": str(start_data(manager).get("reason", ""))}


async def _referral(staff: StaffMember, number: str) -> Referral:
    if len(number) > MAX_NUMBER_LENGTH:
        raise DomainError(Reason.referral_not_found, number=number[:MAX_NUMBER_LENGTH])
    return await staff_service.referral_in_scope(staff, number)
