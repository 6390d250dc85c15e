"""The one-time code as a parent meets it (kk and ru): the SMS itself (one segment, names the
service, warns not to share), every refusal with when to try again, and a failed SMS that is
never presented as sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.utils.i18n import I18n
from aiogram_dialog import DialogManager, StartMode

from bot.dialogs.states import VerifySG
from bot.notifications.render import render
from bot.texts.sms import code_sms_text
from core.models import Applicant, Language, Person
from core.notifications.kinds import CodeNotDelivered
from core.people.otp import OtpService, sms_segments
from core.registry.ports import BmgRecord, GatewayUnavailable
from tests.fixtures.bot import Chatter, texts

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+77011234567"
SENT = {"ru": "Мы отправили SMS", "kk": "SMS жібердік"}
BROKEN = ("что-то пошло не так", "бірдеңе дұрыс болмады")


class OwnedGov:
    def __init__(self, owners: dict[str, str]) -> None:
        self.owners = owners

    async def phone_registered(self, phone: str) -> BmgRecord:
        return BmgRecord(phone=phone, registered=True, iin=self.owners.get(phone))


class Sms:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[str] = []
        self.fail = fail

    async def send(self, phone: str, text: str, client_id: str) -> str:
        if self.fail is not None:
            raise self.fail
        self.sent.append(text)
        return "m1"


def _verify_command(app: Any, sms: Sms, owners: dict[str, str] | None = None) -> None:
    """A test-only /verify command in front of every router, with fake gateways."""
    router = Router(name="verify-test")

    @router.message(Command("verify"))
    async def start_verify(message: object, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(VerifySG.phone, data={"need": 1}, mode=StartMode.RESET_STACK)

    app.dispatcher.sub_routers.insert(0, router)
    router._parent_router = app.dispatcher
    app.dispatcher.workflow_data["otp"] = OtpService(
        app.redis,
        app.settings,
        sms,  # type: ignore[arg-type]
        OwnedGov(owners or {}),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("language", "warning"), [("kk", "ешкімге айтпаңыз"), ("ru", "Никому его не сообщайте")]
)
def test_the_code_sms_names_the_service_warns_and_fits_one_segment(
    language: str, warning: str
) -> None:
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale(language):
        text = code_sms_text().format(code="123456")
    assert "Indigo" in text and "123456" in text and warning in text
    assert len(text) <= 70 and sms_segments(text) == 1  # Cyrillic: UCS-2, 70 characters


def test_a_longer_cyrillic_text_would_take_two_segments() -> None:
    assert sms_segments("к" * 70) == 1 and sms_segments("к" * 71) == 2
    assert sms_segments("a" * 160) == 1 and sms_segments("a" * 161) == 2


@pytest.mark.parametrize(
    ("language", "sent_text"),
    [("ru", "Indigo, очередь в детсад: код "), ("kk", "Indigo, балабақша кезегі: код ")],
)
async def test_the_parent_gets_the_code_sms_in_their_language(
    bot_app: tuple, language: str, sent_text: str
) -> None:
    app, session = bot_app
    sms = Sms()
    _verify_command(app, sms)
    parent = Chatter(app, session, 311 if language == "ru" else 312, language)
    await parent.send("/verify")
    shown = texts(await parent.send(PHONE))
    assert SENT[language] in shown[-1]
    assert len(sms.sent) == 1 and sms.sent[0].startswith(sent_text)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "ru",
            "На этот номер отправлено слишком много кодов. Новый код можно будет запросить "
            "позже. Подождите: 50 мин.",
        ),
        (
            "kk",
            "Бұл нөмірге тым көп код жіберілді. Жаңа кодты кейінірек сұрауға болады. Күту "
            "уақыты: 50 мин.",
        ),
    ],
)
async def test_a_capped_phone_is_refused_with_when_to_try_again(
    bot_app: tuple, language: str, expected: str
) -> None:
    app, session = bot_app
    sms = Sms()
    _verify_command(app, sms)
    await app.redis.set(f"otp:phone:hour:{PHONE}", 3, ex=50 * 60 - 5)
    parent = Chatter(app, session, 313, language)
    await parent.send("/verify")
    shown = texts(await parent.send(PHONE))[-1]
    assert expected in shown
    assert SENT[language] not in shown and sms.sent == []


async def test_the_breaker_and_the_daily_cap_say_how_long_to_wait(bot_app: tuple) -> None:
    app, session = bot_app
    sms = Sms()
    _verify_command(app, sms)
    parent = Chatter(app, session, 314, "ru")
    await parent.send("/verify")
    await app.redis.set("otp:breaker", 1, ex=600)
    assert (
        "приостановлена. Попробуйте позже. Подождите: 10 мин."
        in texts(await parent.send(PHONE))[-1]
    )
    await app.redis.delete("otp:breaker")
    applicant = await Applicant.get(telegram_user_id=314)
    await app.redis.set(f"otp:day:{applicant.id}", 10, ex=5 * 3600 + 20 * 60)
    assert "Вы запросили слишком много кодов." in texts(await parent.send(PHONE))[-1]
    assert "Подождите: 5 ч 20 мин." in texts(await parent.send(PHONE))[-1]
    assert sms.sent == []


async def test_a_phone_of_another_person_is_refused_in_both_languages(bot_app: tuple) -> None:
    app, session = bot_app
    sms = Sms()
    _verify_command(app, sms, owners={PHONE: "900314364011"})
    person = await Person.create(
        iin="880101300123", last_name="Тестов", first_name="Тест", birth_date="1988-01-01"
    )
    for user_id, language, words in [
        (315, "ru", "принадлежит другому человеку"),
        (316, "kk", "басқа адамға тиесілі"),
    ]:
        await Applicant.create(
            telegram_user_id=user_id, chat_id=user_id, person=person, language=Language(language)
        )
        parent = Chatter(app, session, user_id, language)
        await parent.send("/verify")
        shown = texts(await parent.send(PHONE))[-1]
        assert words in shown and SENT[language] not in shown
        person = await Person.create(
            iin=f"88010130{user_id}",
            last_name="Тестов",
            first_name="Тест",
            birth_date="1988-01-01",
        )
    assert sms.sent == []


@pytest.mark.parametrize("failure", [ValueError("HTTP 400"), GatewayUnavailable("down")])
async def test_an_sms_the_gateway_refused_is_not_shown_as_sent(
    bot_app: tuple, failure: Exception
) -> None:
    app, session = bot_app
    _verify_command(app, Sms(fail=failure))
    parent = Chatter(app, session, 317, "ru")
    await parent.send("/verify")
    shown = texts(await parent.send(PHONE))
    assert "Не удалось отправить SMS с кодом на этот номер." in shown[-1]
    assert not any(SENT["ru"] in text or BROKEN[0] in text for text in shown)


@pytest.mark.parametrize(
    ("language", "words"),
    [("ru", "SMS с кодом подтверждения не доставлено"), ("kk", "SMS жеткізілмеді")],
)
def test_an_undelivered_code_tells_the_parent_to_request_a_new_one(
    language: str, words: str
) -> None:
    message = render(CodeNotDelivered(), language)
    assert words in message.text
    assert ("Отправить код повторно" if language == "ru" else "Кодты қайта жіберу") in message.text
