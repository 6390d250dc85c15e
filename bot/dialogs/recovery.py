"""Восстановить доступ к Личному кабинету: a legal representative takes over the applications
another person filed for their child, after the gov gateway confirms the representation (family
request, consent by SMS from 1414) and a code to the parent's phone.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, Window
from aiogram_dialog.widgets.kbd import Button, Cancel, Row

from bot.dialogs import cabinet_common as common
from bot.dialogs.widgets import Tr
from core import cabinet, gov_requests
from core.errors import DomainError
from core.iin import InvalidIin, parse_iin
from core.ports import GatewayUnavailable


class RecoverySG(StatesGroup):
    intro = State()
    parent_iin = State()
    child_iin = State()
    consent = State()
    code = State()
    done = State()


async def on_parent_iin(message: Message, widget: Any, manager: DialogManager) -> None:
    iin = await _read_iin(message)
    if iin is not None:
        manager.dialog_data["parent_iin"] = iin
        await manager.switch_to(RecoverySG.child_iin)


async def on_child_iin(message: Message, widget: Any, manager: DialogManager) -> None:
    iin = await _read_iin(message)
    if iin is None:
        return
    applicant = common.applicant_id(manager)
    found = await cabinet.applications_of_child(iin)
    if not found:
        await message.answer(common.refusal(DomainError("application_not_found")))
        return
    if all(app.applicant_id == applicant for app in found):
        await message.answer(_("These applications are already in your cabinet."))
        return
    manager.dialog_data["child_iin"] = iin
    try:
        request = await gov_requests.start_family_request(
            applicant, manager.dialog_data["parent_iin"], manager.middleware_data["gov"]
        )
    except DomainError as error:
        await message.answer(common.refusal(error))
        return
    except GatewayUnavailable:
        await message.answer(common.refusal(DomainError("gateway_unavailable")))
        return
    manager.dialog_data["request_id"] = request.request_id
    await manager.switch_to(RecoverySG.consent)


async def _read_iin(message: Message) -> str | None:
    try:
        return parse_iin(message.text or "").value
    except InvalidIin as error:
        await message.answer(common.refusal(DomainError(f"iin_{error.reason}")))
        return None


async def on_check(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    """After the SMS consent: is this parent the child's legal representative?"""
    applicant = common.applicant_id(manager)
    request = await gov_requests.result_for(applicant)
    if request is None or request.request_id != manager.dialog_data.get("request_id"):
        await callback.message.answer(_("The request was not found. Please start again."))
        return
    result = gov_requests.family_result(request)
    if result is None:
        await callback.message.answer(
            _("No answer yet. Confirm the request in the SMS from 1414, then press Check.")
        )
        return
    if not result.consent:
        await callback.message.answer(common.refusal(DomainError("family_consent_refused")))
        await manager.done()
        return
    child_iin = manager.dialog_data["child_iin"]
    if not any(c.person.iin == child_iin and c.legal_representative for c in result.children):
        await callback.message.answer(common.refusal(DomainError("not_legal_representative")))
        await manager.done()
        return
    phones = await cabinet.phones_of(applicant)
    verified = [p.number for p in phones if p.verified]
    if not verified:
        await callback.message.answer(common.refusal(DomainError("not_enough_verified_phones")))
        await manager.done()
        return
    try:
        await manager.middleware_data["otp"].request(
            applicant,
            verified[0],
            _("Indigo: your code is {code}. Do not tell it to anyone."),
        )
    except DomainError as error:
        await callback.message.answer(common.refusal(error))
        return
    manager.dialog_data["phone"] = verified[0]
    await manager.switch_to(RecoverySG.code)


async def on_code(message: Message, widget: Any, manager: DialogManager) -> None:
    applicant = common.applicant_id(manager)
    try:
        await manager.middleware_data["otp"].verify(
            applicant, manager.dialog_data["phone"], (message.text or "").strip()
        )
        numbers = await cabinet.transfer_applications(manager.dialog_data["child_iin"], applicant)
    except DomainError as error:
        await message.answer(common.refusal(error))
        return
    manager.dialog_data["numbers"] = ", ".join(f"№{n}" for n in numbers)
    await manager.switch_to(RecoverySG.done, show_mode=ShowMode.SEND)


async def intro_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {}


async def on_begin(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    applicant = manager.middleware_data["applicant"]
    iin = await cabinet.person_iin(applicant.id)
    if iin:
        manager.dialog_data["parent_iin"] = iin
        await manager.switch_to(RecoverySG.child_iin)
    else:
        await manager.switch_to(RecoverySG.parent_iin)


async def code_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    from core.otp import mask_phone

    return {"phone": mask_phone(dialog_manager.dialog_data.get("phone", ""))}


async def done_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"numbers": dialog_manager.dialog_data.get("numbers", "")}


recovery_dialog = Dialog(
    Window(
        Tr("Restore access to an application"),
        Tr(
            "If the application for your child was filed by someone else, you can move it to "
            "your cabinet. We will ask the state registry to confirm that you are the child's "
            "legal representative (you will get an SMS from 1414), then send a code to your phone."
        ),
        Row(
            Button(Tr("Continue"), id="begin", on_click=on_begin),
            Cancel(Tr("Back")),
        ),
        common.hint(),
        getter=intro_getter,
        state=RecoverySG.intro,
    ),
    Window(
        Tr("Type your IIN (12 digits)."),
        *common.text_input(on_parent_iin),
        Cancel(Tr("Cancel")),
        state=RecoverySG.parent_iin,
    ),
    Window(
        Tr("Type the child's IIN (12 digits)."),
        *common.text_input(on_child_iin),
        Cancel(Tr("Cancel")),
        state=RecoverySG.child_iin,
    ),
    Window(
        Tr(
            "We asked the state registry to confirm your family. Confirm the request in the SMS "
            "from 1414, then press Check."
        ),
        Row(
            Button(Tr("Check"), id="check", on_click=on_check),
            Cancel(Tr("Cancel")),
        ),
        common.hint(),
        state=RecoverySG.consent,
    ),
    Window(
        Tr(
            "You are confirmed as the child's legal representative. We sent a code to {phone}; "
            "type it here."
        ),
        *common.text_input(on_code),
        Cancel(Tr("Cancel")),
        getter=code_getter,
        state=RecoverySG.code,
    ),
    Window(
        Tr("Done: applications {numbers} are now in your cabinet."),
        Cancel(Tr("Back to the cabinet")),
        common.hint(),
        getter=done_getter,
        state=RecoverySG.done,
    ),
)

common.answers_callbacks(recovery_dialog)
