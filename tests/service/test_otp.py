"""One-time codes on a real Redis: lifetime, wrong tries, lockout, resend cooldown, hashing."""

from __future__ import annotations

import re

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram_dialog import DialogManager, StartMode
from redis.asyncio import Redis

from bot.dialogs.states import VerifySG
from core.models import Applicant
from core.people import applicants
from core.people.otp import OtpService
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.registry.ports import BmgRecord
from core.views import cabinet
from tests.fixtures.bot import Chatter, inline_buttons, reply_keyboard, texts

PHONE = "+77011234567"


class FakeGov:
    def __init__(self, registered: set[str]) -> None:
        self.registered = registered

    async def phone_registered(self, phone: str) -> BmgRecord:
        return BmgRecord(phone=phone, registered=phone in self.registered, iin=None)


class FakeSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, phone: str, text: str, client_id: str) -> str:
        self.sent.append((phone, text))
        return f"m{len(self.sent)}"

    def last_code(self) -> str:
        match = re.search(r"\d{6}", self.sent[-1][1])
        assert match
        return match.group(0)


@pytest.fixture
def sms() -> FakeSms:
    return FakeSms()


@pytest.fixture
def otp(redis: Redis, settings: Settings, sms: FakeSms) -> OtpService:
    return OtpService(redis, settings, sms, FakeGov({PHONE, "+77017654321"}))  # type: ignore[arg-type]


@pytest.fixture
async def parent(db: None) -> Applicant:
    return await Applicant.create(telegram_user_id=5001, chat_id=5001)


async def test_a_code_sent_by_sms_verifies_the_phone(
    otp: OtpService, sms: FakeSms, parent: Applicant
) -> None:
    sent = await otp.request(parent.id, "+7 701 123 45 67", "Код подтверждения: {code}")
    assert sent.phone == PHONE
    assert sms.sent[-1][0] == PHONE
    assert re.fullmatch(r"Код подтверждения: \d{6}", sms.sent[-1][1])
    assert await otp.verify(parent.id, PHONE, sms.last_code()) == 1
    assert [p.number for p in await cabinet.phones_of(parent.id) if p.verified] == [PHONE]


async def test_a_phone_outside_bmg_is_refused_and_nothing_is_sent(
    otp: OtpService, sms: FakeSms, parent: Applicant
) -> None:
    with pytest.raises(DomainError) as refused:
        await otp.request(parent.id, "+77770000000", "{code}")
    assert refused.value.reason == "phone_not_in_bmg"
    assert sms.sent == []


async def test_the_code_is_stored_only_as_a_hash(
    otp: OtpService, sms: FakeSms, parent: Applicant, redis: Redis
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    code = sms.last_code()
    stored = [await redis.dump(key) or b"" for key in await redis.keys("*")]
    assert stored and all(code.encode() not in value for value in stored)


async def test_an_expired_code_is_refused(
    otp: OtpService, sms: FakeSms, parent: Applicant, redis: Redis
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    for key in await redis.keys("otp:code:*"):
        await redis.expire(key, 0)  # the lifetime is Redis's TTL: let it pass
    with pytest.raises(DomainError) as refused:
        await otp.verify(parent.id, PHONE, sms.last_code())
    assert refused.value.reason == "otp_expired"


async def test_code_lifetime_is_the_configured_ttl(
    otp: OtpService, parent: Applicant, redis: Redis, settings: Settings
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    (key,) = await redis.keys("otp:code:*")
    assert 0 < await redis.ttl(key) <= settings.otp_ttl_seconds


async def test_wrong_tries_count_down_then_lock_out(
    otp: OtpService, sms: FakeSms, parent: Applicant, settings: Settings
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    code = sms.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    left = []
    for _ in range(settings.otp_max_attempts - 1):
        with pytest.raises(DomainError) as refused:
            await otp.verify(parent.id, PHONE, wrong)
        assert refused.value.reason == "otp_wrong"
        left.append(refused.value.params["attempts_left"])
    assert left == list(range(settings.otp_max_attempts - 1, 0, -1))
    with pytest.raises(DomainError) as refused:
        await otp.verify(parent.id, PHONE, wrong)
    assert refused.value.reason == "otp_locked"
    # Locked: even the right code and a fresh request are refused, with the time left.
    for attempt in (otp.verify(parent.id, PHONE, code), otp.request(parent.id, PHONE, "{code}")):
        with pytest.raises(DomainError) as refused:
            await attempt
        assert refused.value.reason == "otp_locked"
        assert 0 < refused.value.params["seconds_left"] <= settings.otp_lockout_seconds


async def test_wrong_tries_are_not_reset_by_asking_for_a_new_code(
    otp: OtpService, sms: FakeSms, parent: Applicant, settings: Settings, redis: Redis
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    with pytest.raises(DomainError):
        await otp.verify(parent.id, PHONE, "000000" if sms.last_code() != "000000" else "111111")
    await redis.delete(*await redis.keys("otp:cool:*"))  # the cooldown has passed
    await otp.request(parent.id, PHONE, "{code}")
    code = sms.last_code()
    with pytest.raises(DomainError) as refused:
        await otp.verify(parent.id, PHONE, f"{(int(code) + 1) % 1_000_000:06d}")
    assert refused.value.params["attempts_left"] == settings.otp_max_attempts - 2


async def test_resend_waits_for_the_cooldown(
    otp: OtpService, sms: FakeSms, parent: Applicant, settings: Settings
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    with pytest.raises(DomainError) as refused:
        await otp.request(parent.id, PHONE, "{code}")
    assert refused.value.reason == "resend_cooldown"
    assert 0 < refused.value.params["seconds_left"] <= settings.otp_resend_cooldown_seconds
    assert len(sms.sent) == 1
    assert await otp.resend_in(parent.id, PHONE) > 0


async def test_a_used_code_cannot_be_replayed(
    otp: OtpService, sms: FakeSms, parent: Applicant
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    code = sms.last_code()
    await otp.verify(parent.id, PHONE, code)
    with pytest.raises(DomainError) as refused:
        await otp.verify(parent.id, PHONE, code)
    assert refused.value.reason == "otp_expired"


async def test_a_code_for_one_phone_does_not_verify_another(
    otp: OtpService, sms: FakeSms, parent: Applicant
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    with pytest.raises(DomainError) as refused:
        await otp.verify(parent.id, "+77017654321", sms.last_code())
    assert refused.value.reason == "otp_expired"


async def test_two_phones_give_two_verified(
    otp: OtpService, sms: FakeSms, parent: Applicant
) -> None:
    await otp.request(parent.id, PHONE, "{code}")
    assert await otp.verify(parent.id, PHONE, sms.last_code()) == 1
    await otp.request(parent.id, "87017654321", "{code}")
    assert await otp.verify(parent.id, "+77017654321", sms.last_code()) == 2


async def test_a_malformed_phone_is_refused(otp: OtpService, parent: Applicant) -> None:
    with pytest.raises(DomainError) as refused:
        await otp.request(parent.id, "12345", "{code}")
    assert refused.value.reason == "invalid_phone"


# --- The VerifySG conversation, through the production Dispatcher ---------------------------


def _with_verify_command(app: object, sms: FakeSms) -> None:
    """A test-only /verify command in front of every router, and gateways that are fakes."""
    router = Router(name="verify-test")

    @router.message(Command("verify"))
    async def start_verify(message: object, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(VerifySG.phone, data={"need": 2}, mode=StartMode.RESET_STACK)

    dispatcher = app.dispatcher  # type: ignore[attr-defined]
    dispatcher.sub_routers.insert(0, router)
    router._parent_router = dispatcher
    dispatcher.workflow_data["otp"] = OtpService(
        app.redis,  # type: ignore[attr-defined]
        app.settings,  # type: ignore[attr-defined]
        sms,
        FakeGov({PHONE, "+77017654321"}),  # type: ignore[arg-type]
    )


async def test_a_parent_confirms_two_phones_in_russian(bot_app: tuple, sms: FakeSms) -> None:
    app, session = bot_app
    _with_verify_command(app, sms)
    parent = Chatter(app, session, 301, "ru")
    await parent.send("/start")
    sent = await parent.send("/verify")
    assert "Подтверждение телефона</b> (подтверждено 0 из 2)" in texts(sent)[-1]
    assert reply_keyboard(sent)[0] == ["Отправить мой контакт"]

    sent = await parent.send_contact("+77011234567", user_id=999)
    assert "свой собственный контакт" in texts(sent)[-1]
    assert sms.sent == []

    sent = await parent.send_contact("77011234567")
    assert "Мы отправили SMS с 6-значным кодом на номер +7 701 123 45 67" in texts(sent)[-1]
    assert sms.sent[-1][1].startswith("Indigo, очередь в детсад: код ")
    resend = [caption for caption, _ in inline_buttons(sent)]
    assert any(c.startswith("Отправить код повторно (через ") for c in resend)

    wrong = f"{(int(sms.last_code()) + 1) % 1_000_000:06d}"
    assert "Неверный код. Осталось попыток: 4." in texts(await parent.send(wrong))[-1]
    sent = await parent.send(sms.last_code())
    confirmed = "Номер +7 701 123 45 67 подтверждён. Теперь подтвердите ещё один номер."
    assert confirmed in texts(sent)[-1]

    sent = await parent.send("8 701 765 43 21")
    assert "+7 701 765 43 21" in texts(sent)[-1]
    sent = await parent.send(sms.last_code())
    assert "Номер +7 701 765 43 21 подтверждён." in texts(sent)
    assert reply_keyboard(sent)[0] == ["Встать в очередь", "Проверить очередь"]  # menu is back
    applicant = await Applicant.get(telegram_user_id=301)
    assert await applicants.verified_phone_count(applicant) == 2


async def test_a_phone_outside_bmg_is_explained_in_kazakh(bot_app: tuple, sms: FakeSms) -> None:
    app, session = bot_app
    _with_verify_command(app, sms)
    parent = Chatter(app, session, 302, "kk")
    sent = await parent.send("/verify")
    assert "Телефонды растау" in texts(sent)[-1]
    sent = await parent.send("+7 777 000 00 00")
    assert "(МАБ)" in texts(sent)[-1] and "тіркелмеген" in texts(sent)[-1]
    sent = await parent.send("12345")
    assert "+7 7XX XXX XX XX" in texts(sent)[-1]
