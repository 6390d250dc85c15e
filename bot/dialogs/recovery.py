"""Восстановить доступ к Личному кабинету: a legal representative takes over the applications
another person filed for their child, after the gov gateway confirms the representation (family
request, consent by SMS from 1414) and a code to the parent's phone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import (
    BaseDialogManager,
    BgManagerFactory,
    Dialog,
    DialogManager,
    ShowMode,
)
from aiogram_dialog.widgets.kbd import Button, Cancel, Row
from redis.asyncio import Redis

from bot.dialogs import common
from bot.dialogs.common import Tr, Window
from bot.dialogs.states import RecoverySG
from bot.texts.formats import phone_text
from bot.texts.reasons import error_text
from bot.texts.sms import code_sms_text
from bot.texts.typed import clean_typed
from core.people import applicants
from core.people.iin import InvalidIin, parse_iin
from core.people.otp import extract_code
from core.platform.errors import DomainError
from core.platform.events import FAMILY_RESULT, EventBus
from core.registry import family_requests
from core.registry.ports import GatewayUnavailable
from core.views import cabinet

log = logging.getLogger(__name__)


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
        # The parent typed a child's IIN, not an application number: say what was looked up.
        await message.answer(
            _("No application was found for a child with this IIN. Please check the IIN.")
        )
        return
    if all(app.applicant_id == applicant for app in found):
        await message.answer(_("These applications are already in your cabinet."))
        return
    manager.dialog_data["child_iin"] = iin
    try:
        request = await family_requests.start_family_request(
            applicant, manager.dialog_data["parent_iin"], manager.middleware_data["gov"]
        )
    except DomainError as error:
        await message.answer(error_text(error))
        return
    except GatewayUnavailable:
        await message.answer(error_text(DomainError("gateway_unavailable")))
        return
    manager.dialog_data["request_id"] = request.request_id
    await _remember_target(manager, request.request_id)
    await manager.switch_to(RecoverySG.consent)


async def _read_iin(message: Message) -> str | None:
    try:
        return parse_iin(clean_typed(message.text)).value
    except InvalidIin as error:
        await message.answer(error_text(DomainError(f"iin_{error.reason}")))
        return None


Say = Callable[[str], Awaitable[Any]]


async def on_check(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    """The "Check" button: the answer normally moves the conversation on by itself (see
    `subscribe`); the button covers a lost event or a parent who is quicker."""
    await _after_consent(manager, functools.partial(common.reply, callback))


async def _after_consent(manager: DialogManager, say: Say) -> bool:
    """After the SMS consent: is this parent the child's legal representative? Then a code to
    the parent's phone. False while the registry has not answered yet."""
    applicant = common.applicant_id(manager)
    request = await family_requests.result_for(applicant)
    if request is None or request.request_id != manager.dialog_data.get("request_id"):
        await say(_("The request was not found. Please start again."))
        return True
    result = family_requests.family_result(request)
    if result is None:
        await say(_("No answer yet. Confirm the request in the SMS from 1414, then press Check."))
        return False
    if not result.consent:
        await say(error_text(DomainError("family_consent_refused")))
        await manager.done()
        return True
    child_iin = manager.dialog_data["child_iin"]
    if not any(c.person.iin == child_iin and c.legal_representative for c in result.children):
        await say(error_text(DomainError("not_legal_representative")))
        await manager.done()
        return True
    phones = await cabinet.phones_of(applicant)
    verified = [p.number for p in phones if p.verified]
    if not verified:
        await say(error_text(DomainError("not_enough_verified_phones")))
        await manager.done()
        return True
    otp = manager.middleware_data["otp"]
    refused: DomainError | None = None
    # A number confirmed a minute ago is still cooling down: another confirmed one will do.
    for number in verified:
        try:
            await otp.request(applicant, number, code_sms_text())
        except DomainError as error:
            refused = refused or error
            continue
        manager.dialog_data["phone"] = number
        await manager.switch_to(RecoverySG.code)
        return True
    if refused is not None:
        await say(error_text(refused))
    return True


# --- continue by itself when the registry answers -------------------------------------------

TARGET_TTL_SECONDS = 24 * 3600
FG_TIMEOUT_SECONDS = 30


def _target_key(request_id: str) -> str:
    return f"indigo:recovery:family:{request_id}"


async def _remember_target(manager: DialogManager, request_id: str) -> None:
    user = manager.middleware_data.get("event_from_user")
    chat = manager.middleware_data.get("event_chat")
    redis = manager.middleware_data.get("redis")
    if user is None or chat is None or redis is None:
        return
    payload = json.dumps({"user_id": user.id, "chat_id": chat.id})
    await redis.set(_target_key(request_id), payload, ex=TARGET_TTL_SECONDS)


def subscribe(events: EventBus, redis: Redis, bot: Bot, bg_factory: BgManagerFactory) -> None:
    """`core.events.FAMILY_RESULT` (the gov callback was stored) moves a recovery that waits
    for exactly this request on: the code is sent and the code window shown."""
    running: set[asyncio.Task[None]] = set()

    async def on_family_result(payload: dict[str, Any]) -> None:
        request_id = str(payload["request_id"])
        raw = await redis.get(_target_key(request_id))
        if raw is None:
            return  # not a recovery of this bot
        target = json.loads(raw)
        bg = bg_factory.bg(bot, int(target["user_id"]), int(target["chat_id"]))
        # Not awaited: the callback's processing must not wait for the chat's lock.
        task = asyncio.create_task(_continue(bg, request_id, int(target["chat_id"])))
        running.add(task)
        task.add_done_callback(running.discard)

    events.subscribe(FAMILY_RESULT, on_family_result)


async def _continue(bg: BaseDialogManager, request_id: str, chat_id: int) -> None:
    try:
        async with asyncio.timeout(FG_TIMEOUT_SECONDS), bg.fg() as manager:
            await _move_on(manager, request_id, chat_id)
    except TimeoutError:
        log.warning("access recovery could not be continued in time")
    except Exception:
        log.exception("continuing access recovery after a family result failed")


async def _move_on(manager: DialogManager, request_id: str, chat_id: int) -> None:
    if not manager.has_context():
        return
    context = manager.current_context()
    if context.state != RecoverySG.consent or context.dialog_data.get("request_id") != request_id:
        return  # the parent went elsewhere (or pressed Check already)
    bot = manager.middleware_data["bot"]

    async def say(text: str) -> Any:
        return await bot.send_message(chat_id, text)

    # This task is not the dispatcher's: enter the reader's language for texts and rendering.
    i18n = manager.middleware_data.get("i18n")
    locale = manager.middleware_data.get("locale") or "ru"
    with contextlib.ExitStack() as stack:
        if i18n is not None:
            stack.enter_context(i18n.context())
            stack.enter_context(i18n.use_locale(locale))
        if await _after_consent(manager, say) and manager.has_context():
            await manager.show(ShowMode.SEND)


async def on_code(message: Message, widget: Any, manager: DialogManager) -> None:
    applicant = common.applicant_id(manager)
    phone = manager.dialog_data["phone"]
    code = extract_code(clean_typed(message.text), common.settings_of(manager).otp_length)
    if code is None:  # no code in it: nothing is tried, no attempt is used up
        await message.answer(_("Please type the code from the SMS: 6 digits."))
        return
    try:
        await manager.middleware_data["otp"].verify(applicant, phone, code)
        # The accounts the applications leave are told, in the same transaction.
        numbers = await applicants.transfer_applications(
            manager.dialog_data["child_iin"], applicant, phone
        )
    except DomainError as error:
        await message.answer(error_text(error))
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
    # The parent's own confirmed number, written as everywhere else in the bot.
    return {"phone": phone_text(dialog_manager.dialog_data.get("phone", ""))}


async def done_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"numbers": dialog_manager.dialog_data.get("numbers", "")}


def make_dialog() -> Dialog:
    """Access recovery, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Tr("Restore access to an application"),
            Tr(
                "If the application for your child was filed by someone else, you can move it to "
                "your cabinet. We will ask the state registry to confirm that you are the child's "
                "legal representative (you will get an SMS from 1414), then send a code to your "
                "phone."
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
                "We asked the state registry to confirm your family. Confirm the request in the "
                "SMS "
                "from 1414; we will continue as soon as the registry answers. You can also press "
                "Check."
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
            Tr("Done. Now in your cabinet: {numbers}."),  # one or several: no plural needed
            Cancel(Tr("Back to the cabinet")),
            common.hint(),
            getter=done_getter,
            state=RecoverySG.done,
        ),
    )
