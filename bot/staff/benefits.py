"""/benefits: the extraordinary-benefit documents waiting for a decision, each with Confirm and
Reject. Either asks first (a small dialog): Confirm shows whose benefit it is; Reject asks for
the reason the parent is told (common reasons as buttons, or typed) and then to confirm; Cancel
everywhere."""

from __future__ import annotations

import logging
from typing import Any, Literal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Column, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.callbacks import RowId
from bot.dialogs.common import Tr, Window, pick_list, settings_of, start_data
from bot.staff.answers import close_with, guard
from bot.staff.context import accept, offer, staff_of
from bot.staff.decisions import REASON_LENGTH, application_text, reason_choices, reason_shown
from bot.staff.inputs import typed_text
from bot.staff.states import BenefitRejectSG
from bot.texts.formats import esc
from bot.texts.labels import benefit_name
from bot.texts.reasons import error_text
from core.models import BenefitStatus, StaffMember
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.referrals.benefits import BENEFIT_REJECT_REASONS, DecisionReason, confirm_benefit
from core.referrals.cards import application_card

log = logging.getLogger(__name__)


class BenefitCb(CallbackData, prefix="sben"):
    action: Literal["ok", "no"]
    application: RowId


def make_router() -> Router:
    """/benefits and its buttons (staff only: the router that includes this one checks)."""
    router = Router(name="staff.benefits")
    router.message.register(benefits_list, Command("benefits"))
    router.callback_query.register(benefit_confirm, BenefitCb.filter(F.action == "ok"))
    router.callback_query.register(benefit_reject, BenefitCb.filter(F.action == "no"))
    return router


def make_dialog() -> Dialog:
    sg = BenefitRejectSG
    cancel = Button(Tr("Cancel"), id="cancel", on_click=on_cancel)
    return Dialog(
        Window(
            Tr("Confirm the benefit «{benefit}» for application #{number}?"),
            Format("{card}"),
            Tr(
                "A referral waiting for this confirmation becomes valid for enrolment. "
                "The parent will be notified."
            ),
            Row(Button(Tr("Confirm"), id="ok", on_click=on_confirm), cancel),
            getter=card_getter,
            state=sg.confirm,
        ),
        Window(
            Tr(
                "Why is the benefit of application #{number} rejected? Choose the reason the "
                "parent will read:"
            ),
            Format("{card}"),
            Column(pick_list("why", "reasons", on_reason)),
            cancel,
            getter=reasons_getter,
            state=sg.reason,
        ),
        Window(
            Tr("Type the reason the parent will read (up to {limit} characters)."),
            *typed_text(on_typed_reason),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.reason), cancel),
            getter=limit_getter,
            state=sg.reason_text,
        ),
        Window(
            Tr("Reject the benefit «{benefit}» of application #{number}?"),
            Format("{card}"),
            Tr("Reason: {reason}"),
            Tr(
                "The application moves to the general queue at its original time; a referral "
                "waiting for the benefit is annulled. The parent will be notified."
            ),
            Row(
                Button(Tr("Reject"), id="ok", on_click=on_reject),
                SwitchTo(Tr("Back"), id="back", state=sg.reason),
                cancel,
            ),
            getter=reject_getter,
            state=sg.reject_confirm,
        ),
    )


async def benefits_list(message: Message, staff: StaffMember) -> None:
    pending = await staff_service.pending_benefits(staff)
    if not pending:
        await message.answer(_("No benefit documents wait for a decision."))
        return
    for application in pending:
        # The category's name, not its number: staff decide against the document's title.
        text = _("Application #{number}: extraordinary benefit «{benefit}».").format(
            number=application.number, benefit=benefit_name(application.benefit_category)
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Confirm"),
                        callback_data=BenefitCb(action="ok", application=application.id).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("Reject"),
                        callback_data=BenefitCb(action="no", application=application.id).pack(),
                    ),
                ]
            ]
        )
        document = application.benefit_document
        if document is not None and document.telegram_file_id:
            try:
                await message.answer_document(
                    document.telegram_file_id, caption=text, reply_markup=markup
                )
                continue
            except Exception:
                log.warning("benefit document of application %s not sendable", application.id)
        await message.answer(text, reply_markup=markup)


async def benefit_confirm(
    query: CallbackQuery,
    callback_data: BenefitCb,
    staff: StaffMember,
    dialog_manager: DialogManager,
) -> None:
    """Confirm asks first: "Confirm the benefit ... for application #N?"."""
    await guard(query, _start(dialog_manager, staff, callback_data, BenefitRejectSG.confirm))


async def benefit_reject(
    query: CallbackQuery,
    callback_data: BenefitCb,
    staff: StaffMember,
    dialog_manager: DialogManager,
) -> None:
    """Reject asks why (reasons as buttons, or typed), then asks to confirm."""
    await guard(query, _start(dialog_manager, staff, callback_data, BenefitRejectSG.reason))


async def _start(
    manager: DialogManager, staff: StaffMember, callback_data: BenefitCb, state: State
) -> None:
    application = await staff_service.application_in_scope(staff, callback_data.application)
    if application.benefit_status != BenefitStatus.pending:  # decided meanwhile: say so now
        raise DomainError(Reason.benefit_not_pending, status=str(application.benefit_status))
    # Asked in a new message: the listing (often a document) stays as it is.
    await manager.start(
        state,
        data={"application_id": application.id, "number": application.number},
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,
    )


# --- the question -----------------------------------------------------------------------------


async def card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    card = await application_card(start_data(dialog_manager)["application_id"])
    return {
        "number": card.number,
        "benefit": esc(benefit_name(card.benefit_category)),
        "card": application_text(card),
    }


async def reasons_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    offer(dialog_manager, "why", [str(code) for code in BENEFIT_REJECT_REASONS])
    reasons = reason_choices(BENEFIT_REJECT_REASONS)
    return await card_getter(dialog_manager) | {"reasons": reasons}


async def limit_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"limit": REASON_LENGTH}


async def reject_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reason = reason_shown(_reason(dialog_manager))
    return await card_getter(dialog_manager) | {"reason": reason}


async def on_reason(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        code = accept(manager, "why", item_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    if code == DecisionReason.other:
        await manager.switch_to(BenefitRejectSG.reason_text)
        return
    manager.dialog_data["reason"] = {"code": code, "text": ""}
    await manager.switch_to(BenefitRejectSG.reject_confirm)


async def on_typed_reason(message: Message, widget: object, manager: DialogManager) -> None:
    text = (message.text or "").strip()[:REASON_LENGTH]
    if not text:
        await message.answer(_("Please type the answer as text."))
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data["reason"] = {"code": "", "text": text}
    manager.show_mode = ShowMode.SEND  # the preview below the typed reason
    await manager.switch_to(BenefitRejectSG.reject_confirm)


# --- deciding ---------------------------------------------------------------------------------


async def on_confirm(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await _decide(callback, manager, confirmed=True)


async def on_reject(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await _decide(callback, manager, confirmed=False)


async def _decide(callback: CallbackQuery, manager: DialogManager, *, confirmed: bool) -> None:
    data, staff = start_data(manager), staff_of(manager)
    reason = _reason(manager) if not confirmed else {"code": "", "text": ""}
    try:
        await staff_service.application_in_scope(staff, data["application_id"])
        await confirm_benefit(
            data["application_id"],
            confirmed,
            reason["text"],
            actor=staff_service.actor(staff),
            settings=settings_of(manager),
            reason_code=reason["code"],
        )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    done = (
        _("The benefit of application #{number} is confirmed; the parent is notified.")
        if confirmed
        else _("The benefit of application #{number} is rejected; the parent is notified.")
    ).format(number=data["number"])
    await close_with(callback, manager, done)


async def on_cancel(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Cancelled. Nothing was changed."))


def _reason(manager: DialogManager) -> dict[str, str]:
    picked = manager.dialog_data.get("reason")
    if isinstance(picked, dict):
        return {"code": str(picked.get("code", "")), "text": str(picked.get("text", ""))}
    return {"code": "", "text": ""}
