"""Phone confirmation by a one-time SMS code (VerifySG).

Started by other conversations with `data={"need": 2}` (how many verified numbers they need);
finishes with the result `{"verified": count}` once the applicant has that many. The number
comes from Telegram's contact button (only the parent's own contact) or is typed; a number
already confirmed does not count twice, a landline is refused with its reason, and the code may
be typed or the whole SMS pasted.
"""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager
from aiogram_dialog.manager.manager import ManagerImpl
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Back, Button, RequestContact, Row
from aiogram_dialog.widgets.markup.reply_keyboard import ReplyKeyboardFactory
from aiogram_dialog.widgets.text import Format

from bot.dialogs.common import Tr, Window, applicant_id
from bot.dialogs.states import CabinetSG, ReferralSG, VerifySG
from bot.keyboards import main_menu
from bot.texts.formats import phone_text
from bot.texts.reasons import error_text, reason_text
from bot.texts.sms import code_sms_text
from bot.texts.typed import clean_typed
from core.people import applicants
from core.people.otp import OtpService, extract_code
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.registry.ports import GatewayUnavailable


def _otp(manager: DialogManager) -> OtpService:
    otp: OtpService = manager.middleware_data["otp"]
    return otp


async def on_start(start_data: Any, manager: DialogManager) -> None:
    need = 1
    if isinstance(start_data, dict):
        need = int(start_data.get("need", 1))
    manager.dialog_data["need"] = need
    have = await applicants.verified_phone_count(applicant_id(manager))
    manager.dialog_data["have"] = have
    if await applicants.signed_out(applicant_id(manager)):
        manager.dialog_data["notice"] = _(
            "You have logged out. To open your applications again, confirm your phone with a "
            "new code."
        )


async def phone_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    return {
        "need": data.get("need", 1),
        "have": data.get("have", 0),
        "error": data.pop("error", ""),
        "notice": data.pop("notice", ""),
    }


async def code_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    phone = data.get("phone", "")
    left = await _otp(dialog_manager).resend_in(applicant_id(dialog_manager), phone) if phone else 0
    return {
        "phone": phone_text(phone),
        "seconds_left": left,
        "can_resend": left == 0,
        "wait_resend": left > 0,
        "error": data.pop("error", ""),
        "minutes": max(1, dialog_manager.middleware_data["settings"].otp_ttl_seconds // 60),
    }


async def _send_code(manager: DialogManager, phone: str) -> bool:
    """Ask core for a code; on refusal keep the reason for the window. True when sent."""
    try:
        await applicants.refuse_confirmed_again(applicant_id(manager), phone)
        sent = await _otp(manager).request(applicant_id(manager), phone, sms_text=code_sms_text())
    except DomainError as exc:
        manager.dialog_data["error"] = error_text(exc)
        manager.dialog_data["unsent"] = exc.reason == Reason.sms_not_sent
        return False
    except GatewayUnavailable:
        manager.dialog_data["error"] = reason_text("gateway_unavailable")
        return False
    manager.dialog_data["phone"] = sent.phone
    return True


async def on_contact(message: Message, _widget: Any, manager: DialogManager) -> None:
    contact = message.contact
    if contact is None or message.from_user is None or contact.user_id != message.from_user.id:
        manager.dialog_data["error"] = reason_text("not_own_contact")
        return
    if await _send_code(manager, contact.phone_number):
        await manager.switch_to(VerifySG.code)


async def on_phone_text(message: Message, _widget: Any, manager: DialogManager) -> None:
    if await _send_code(manager, clean_typed(message.text)):
        await manager.switch_to(VerifySG.code)


async def on_other_content(message: Message, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["error"] = _(
        "Please share the contact with the button below or type the number."
    )


async def on_code(message: Message, _widget: Any, manager: DialogManager) -> None:
    settings = manager.middleware_data["settings"]
    code = extract_code(clean_typed(message.text), settings.otp_length)
    if code is None:  # no code in it: nothing is tried, no attempt is used up
        manager.dialog_data["error"] = _("Please type the code from the SMS: 6 digits.")
        return
    phone = manager.dialog_data.get("phone", "")
    try:
        count = await _otp(manager).verify(applicant_id(manager), phone, code)
    except DomainError as exc:
        manager.dialog_data["error"] = error_text(exc)
        if exc.reason == "otp_locked":
            await manager.switch_to(VerifySG.phone)
        return
    manager.dialog_data["have"] = count
    need = manager.dialog_data.get("need", 1)
    if count >= need:
        manager.dialog_data["confirmed"] = phone
        await manager.done({"verified": count})
        return
    manager.dialog_data["notice"] = _(
        "The number {phone} is confirmed. Now confirm one more number."
    ).format(phone=phone_text(phone))
    manager.dialog_data.pop("phone", None)
    await manager.switch_to(VerifySG.phone)


async def on_code_not_text(message: Message, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["error"] = _("Please type the code from the SMS: 6 digits.")


async def on_resend(_callback: Any, _button: Any, manager: DialogManager) -> None:
    if await _send_code(manager, manager.dialog_data.get("phone", "")):
        return
    if manager.dialog_data.get("unsent"):  # the code window must not say "we have sent"
        await manager.switch_to(VerifySG.phone)


# Conversations that cannot go on without a confirmed phone: cancelling the confirmation closes
# them too (they used to close themselves on the result, which aiogram-dialog cannot survive when
# they are the last dialog: "something went wrong").
GATED = (CabinetSG, ReferralSG)


async def on_cancel(_event: Any, _widget: Any, manager: DialogManager) -> None:
    stack = manager.current_stack()
    if isinstance(manager, ManagerImpl) and len(stack.intents) >= 2:
        below = await manager.storage().load_context(stack.intents[-2])
        if below.state.group in GATED:
            await manager.reset_stack(remove_keyboard=False)
            await _say_closed(manager, None)
            return
    await manager.done()


async def on_close(_result: Any, manager: DialogManager) -> None:
    """Bring the main menu keyboard back (the contact keyboard replaced it)."""
    await _say_closed(manager, manager.dialog_data.get("confirmed"))


async def _say_closed(manager: DialogManager, phone: str | None) -> None:
    bot = manager.middleware_data.get("bot")
    chat = manager.middleware_data.get("event_chat")
    if bot is None or chat is None:
        return
    text = (
        _("The number {phone} is confirmed.").format(phone=phone_text(phone))
        if phone
        else _("Phone confirmation is cancelled.")
    )
    await bot.send_message(chat.id, text, reply_markup=main_menu())


def make_dialog() -> Dialog:
    """Phone verification, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Format("{notice}\n", when="notice"),
            Tr(
                "<b>Phone confirmation</b> (confirmed {have} of {need})\n\n"
                "Share your contact with the button below, or type your mobile number as "
                "+7 7XX XXX XX XX. The number must be registered in the mobile citizens "
                "database (БМГ)."
            ),
            Format("\n{error}", when="error"),
            RequestContact(Tr("Share my contact")),
            Button(Tr("Cancel"), id="cancel_phone", on_click=on_cancel),
            MessageInput(on_contact, content_types=ContentType.CONTACT),
            MessageInput(on_phone_text, content_types=ContentType.TEXT),
            MessageInput(on_other_content),
            markup_factory=ReplyKeyboardFactory(resize_keyboard=True, one_time_keyboard=True),
            state=VerifySG.phone,
            getter=phone_getter,
        ),
        Window(
            Tr(
                "We have sent an SMS with a 6-digit code to {phone}. Type the code here. "
                "It is valid for {minutes} min."
            ),
            Format("\n{error}", when="error"),
            Button(Tr("Send the code again"), id="resend", on_click=on_resend, when="can_resend"),
            Button(
                Tr("Send the code again (in {seconds_left} s)"),
                id="resend_wait",
                on_click=on_resend,
                when="wait_resend",
            ),
            Row(Back(Tr("Back")), Button(Tr("Cancel"), id="cancel_code", on_click=on_cancel)),
            MessageInput(on_code, content_types=ContentType.TEXT),
            MessageInput(on_code_not_text),
            state=VerifySG.code,
            getter=code_getter,
        ),
        on_start=on_start,
        on_close=on_close,
    )
