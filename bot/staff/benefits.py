"""/benefits: the extraordinary-benefit documents waiting for a decision, each with Confirm and
Reject; a rejection asks for the reason the parent is told (a small dialog)."""

from __future__ import annotations

import logging
from typing import Any, Literal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode

from bot.callbacks import RowId
from bot.dialogs.common import Tr, Window, settings_of, start_data
from bot.staff.answers import guard
from bot.staff.context import staff_of
from bot.staff.inputs import typed_text
from bot.staff.states import BenefitRejectSG
from bot.texts.labels import benefit_name
from bot.texts.reasons import error_text
from core.models import StaffMember
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.referrals.benefits import confirm_benefit

log = logging.getLogger(__name__)

REASON_LENGTH = 200


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
    return Dialog(
        Window(
            Tr("Why is the benefit of application #{number} rejected? Send the reason."),
            *typed_text(on_reason),
            getter=reason_getter,
            state=BenefitRejectSG.reason,
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
    query: CallbackQuery, callback_data: BenefitCb, staff: StaffMember, settings: Settings
) -> None:
    async def body() -> None:
        application = await staff_service.application_in_scope(staff, callback_data.application)
        await confirm_benefit(
            application.id, True, actor=staff_service.actor(staff), settings=settings
        )
        message = query.message
        assert isinstance(message, Message)  # the listing the button sits under
        await message.edit_reply_markup(reply_markup=None)
        await message.answer(
            _("The benefit of application #{number} is confirmed.").format(
                number=application.number
            )
        )

    await guard(query, body())


async def benefit_reject(
    query: CallbackQuery,
    callback_data: BenefitCb,
    staff: StaffMember,
    dialog_manager: DialogManager,
) -> None:
    async def body() -> None:
        application = await staff_service.application_in_scope(staff, callback_data.application)
        # Asked in a new message: the listing (often a document) stays as it is.
        await dialog_manager.start(
            BenefitRejectSG.reason,
            data={"application_id": application.id, "number": application.number},
            mode=StartMode.RESET_STACK,
            show_mode=ShowMode.SEND,
        )

    await guard(query, body())


# --- the reason -----------------------------------------------------------------------------


async def reason_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"number": start_data(dialog_manager)["number"]}


async def on_reason(message: Message, widget: object, manager: DialogManager) -> None:
    data, staff = start_data(manager), staff_of(manager)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    try:
        await staff_service.application_in_scope(staff, data["application_id"])
        await confirm_benefit(
            data["application_id"],
            False,
            (message.text or "").strip()[:REASON_LENGTH],
            actor=staff_service.actor(staff),
            settings=settings_of(manager),
        )
    except DomainError as exc:
        await message.answer(error_text(exc))
        return
    await message.answer(
        _("The benefit of application #{number} is rejected; the parent is notified.").format(
            number=data["number"]
        )
    )
