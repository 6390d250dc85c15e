"""Phone confirmation as parents really type (kk and ru): the whole code SMS pasted back, a
landline, and the same number offered twice where two different ones are needed."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram_dialog import DialogManager, StartMode

from bot.dialogs.states import VerifySG
from core.models import Applicant, Phone
from core.people.otp import OtpService
from core.registry.ports import BmgRecord
from tests.fixtures.bot import Parent
from tests.fixtures.e2e_cabinet import t

FIRST, SECOND = "+77011234567", "+77021234567"
CONFIRMED_FIRST = {"ru": "+7 701 123 45 67", "kk": "+7 701 123 45 67"}


class Gov:
    async def phone_registered(self, phone: str) -> BmgRecord:
        return BmgRecord(phone=phone, registered=True, iin=None)


class Sms:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, phone: str, text: str, client_id: str) -> str:
        self.sent.append(text)
        return f"m{len(self.sent)}"


def _verify_command(app: Any, need: int) -> Sms:
    """A test-only /verify command in front of every router (the wizard, the cabinet and the
    referral start the same conversation), with a fake SMS gateway and БМГ."""
    router = Router(name="verify-test")

    @router.message(Command("verify"))
    async def start_verify(message: object, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(VerifySG.phone, data={"need": need}, mode=StartMode.RESET_STACK)

    app.dispatcher.sub_routers.insert(0, router)
    router._parent_router = app.dispatcher
    sms = Sms()
    app.dispatcher.workflow_data["otp"] = OtpService(app.redis, app.settings, sms, Gov())  # type: ignore[arg-type]
    return sms


def _code(sms: Sms) -> str:
    return "".join(ch for ch in sms.sent[-1] if ch.isdigit())[-6:]


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_pasted_code_sms_confirms_the_phone_and_a_text_without_a_code_costs_no_try(
    bot_app: tuple, language: str
) -> None:
    app, _session = bot_app
    sms = _verify_command(app, need=1)
    user_id = 331 if language == "ru" else 332
    parent = Parent(bot_app, user_id, language)
    await parent.send("/verify")
    await parent.send(FIRST)
    for typed in ("12345", "код пришел?", "1234567"):
        said = await parent.send(typed)
        assert t("Please type the code from the SMS: 6 digits.", language) in said
        assert t("Wrong code. Tries left: {attempts_left}.", language, attempts_left=4) not in said
    applicant = await Applicant.get(telegram_user_id=user_id)
    assert await app.redis.get(f"otp:fails:{applicant.id}") is None  # no try used up
    said = await parent.send(sms.sent[-1])  # the whole SMS, as pasted from the messages app
    assert t("The number {phone} is confirmed.", language, phone=CONFIRMED_FIRST[language]) in said
    assert await Phone.exists(applicant=applicant, number=FIRST, verified_at__isnull=False)


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_landline_is_refused_with_its_reason_and_gets_no_sms(
    bot_app: tuple, language: str
) -> None:
    app, _session = bot_app
    sms = _verify_command(app, need=1)
    parent = Parent(bot_app, 333 if language == "ru" else 334, language)
    await parent.send("/verify")
    for landline in ("8 7172 12 34 56", "+7 727 312 34 56"):  # Astana, Almaty
        said = await parent.send(landline)
        assert (
            t(
                "This is a landline number: it cannot receive an SMS with a code. Please send a "
                "mobile number, +7 7XX XXX XX XX.",
                language,
            )
            in said
        )
    assert sms.sent == []
    await parent.send("+7 771 123 45 67")  # a mobile operator's code that starts with 77 1
    assert len(sms.sent) == 1


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_the_second_phone_must_differ_from_the_first(bot_app: tuple, language: str) -> None:
    app, _session = bot_app
    sms = _verify_command(app, need=2)
    parent = Parent(bot_app, 335 if language == "ru" else 336, language)
    await parent.send("/verify")
    await parent.send(FIRST)
    said = await parent.send(_code(sms))
    assert (
        t(
            "The number {phone} is confirmed. Now confirm one more number.",
            language,
            phone=CONFIRMED_FIRST[language],
        )
        in said
    )
    said = await parent.send("8 701 123 45 67")  # the same number, typed another way
    assert (
        t(
            "This number is already confirmed. Please send another mobile number, for example "
            "of the other parent or a relative.",
            language,
        )
        in said
    )
    assert len(sms.sent) == 1  # no second code to the same phone
    await parent.send(SECOND)
    await parent.send(_code(sms))
    applicant = await Applicant.get(telegram_user_id=parent.chat.user.id)
    assert await Phone.filter(applicant=applicant, verified_at__isnull=False).count() == 2
