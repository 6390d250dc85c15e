"""The submission wizard fed to the production Dispatcher (recording bot session, fake gov).

Fast scenarios of the windows and the background continuation; the full journeys through the
sandbox emulator are in `test_e2e_submission.py`.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from core.models import Applicant, Phone
from core.people.iin import make_iin
from core.platform import clock
from core.platform.events import FAMILY_RESULT
from core.registry import family_requests
from core.registry.ports import PersonRecord
from tests.fixtures.bot import Chatter, inline_buttons, texts

PARENT_IIN = "900412412345"


def _iin(born: date, male: bool = True) -> str:
    for serial in range(1, 100):
        value = make_iin(born, male, serial)
        if value:
            return value
    raise AssertionError


class FakeGov:
    def __init__(self) -> None:
        self.requests: list[str] = []

    async def request_family(self, parent_iin: str) -> str:
        self.requests.append(parent_iin)
        return f"req-{len(self.requests)}"

    async def person(self, iin: str) -> PersonRecord | None:
        return PersonRecord(iin, "Сейткали", "Айгерим", "Нурлановна", date(1990, 4, 12), "female")


def use_fake_gov(app: Any) -> FakeGov:
    gov = FakeGov()
    app.gov = gov
    app.dispatcher.workflow_data["gov"] = gov
    return gov


async def parent_with_phones(user_id: int, language: str = "ru") -> Applicant:
    applicant = await Applicant.create(telegram_user_id=user_id, chat_id=user_id, language=language)
    for n in (1, 2):
        await Phone.create(
            applicant=applicant, number=f"+7701{user_id:06d}{n}", verified_at=clock.now()
        )
    return applicant


def button(sent: list[Any], caption: str) -> str:
    for text, data in inline_buttons(sent):
        if caption in text:
            return data
    raise AssertionError(f"no button {caption!r} in {inline_buttons(sent)}")


async def start_wizard(parent: Chatter) -> list[Any]:
    sent = await parent.send("Встать в очередь")
    assert any("⬜" in caption for caption, _ in inline_buttons(sent)), texts(sent)
    return sent


async def test_wizard_refuses_without_consents_then_asks_for_the_iin(bot_app: Any) -> None:
    app, session = bot_app
    use_fake_gov(app)
    await parent_with_phones(201)
    parent = Chatter(app, session, 201, "ru")
    window = await start_wizard(parent)
    sent = await parent.press(button(window, "общеобразовательную"))
    assert any("обе отметки" in t or "отметь" in t.lower() for t in texts(sent)), texts(sent)
    # The refusal is a popup over the same window, whose boxes the parent ticks next.
    sent2 = await parent.press(button(window, "уведомлений"))
    sent3 = await parent.press(button(sent2, "оферты"))
    sent4 = await parent.press(button(sent3, "общеобразовательную"))
    assert any("Шаг 1 из 4" in t for t in texts(sent4)), texts(sent4)


async def test_invalid_iin_is_refused_with_the_rule_and_family_result_continues_by_itself(
    bot_app: Any,
) -> None:
    app, session = bot_app
    gov = use_fake_gov(app)
    await parent_with_phones(202)
    parent = Chatter(app, session, 202, "ru")
    sent = await start_wizard(parent)
    sent = await parent.press(button(sent, "уведомлений"))
    sent = await parent.press(button(sent, "оферты"))
    await parent.press(button(sent, "общеобразовательную"))
    sent = await parent.send("900412412346")
    assert any("контрольн" in t.lower() for t in texts(sent)), texts(sent)
    sent = await parent.send(PARENT_IIN)
    assert gov.requests == [PARENT_IIN]
    assert any("1414" in t for t in texts(sent)), texts(sent)

    young, old = _iin(date(2023, 3, 1)), _iin(date(2017, 3, 1), male=False)
    payload = {
        "request_id": "req-1",
        "parent_iin": PARENT_IIN,
        "consent": True,
        "children": [
            {
                "iin": young,
                "last_name": "Сейткали",
                "first_name": "Алихан",
                "middle_name": "",
                "birth_date": "2023-03-01",
                "sex": "male",
                "legal_representative": True,
            },
            {
                "iin": old,
                "last_name": "Сейткали",
                "first_name": "Аружан",
                "middle_name": "",
                "birth_date": "2017-03-01",
                "sex": "female",
                "legal_representative": True,
            },
        ],
        "benefits": [],
    }
    request = await family_requests.complete(payload)
    await app.events.publish(
        FAMILY_RESULT,
        {"request_id": "req-1", "applicant_id": request.applicant_id, "consent": True},
    )
    for _ in range(50):
        await asyncio.sleep(0.05)
        if session.requests:
            break
    await asyncio.sleep(0.2)
    sent = session.take()
    assert any("Детей найдено: 2" in t for t in texts(sent)), texts(sent)
    sent_old = await parent.press(button(sent, "Аружан"))
    assert any("исполнилось 6" in t for t in texts(sent_old)), texts(sent_old)


async def test_a_refused_consent_is_explained_and_check_finds_nothing_more(bot_app: Any) -> None:
    app, session = bot_app
    use_fake_gov(app)
    await parent_with_phones(203, "kk")
    parent = Chatter(app, session, 203, "kk")
    sent = await start_wizard(parent)
    sent = await parent.press(button(sent, "байланыс деректерімді"))
    sent = await parent.press(button(sent, "оферта"))
    await parent.press(button(sent, "Жалпы кезекке тұру"))
    sent = await parent.send(PARENT_IIN)
    check = button(sent, "Тексеру")

    # Pressing "Check" before the answer: still waiting.
    sent = await parent.press(check)
    assert any("Әзірге жауап жоқ" in t for t in texts(sent)), texts(sent)

    request = await family_requests.complete({"request_id": "req-1", "consent": False})
    await app.events.publish(
        FAMILY_RESULT,
        {"request_id": "req-1", "applicant_id": request.applicant_id, "consent": False},
    )
    for _ in range(50):
        await asyncio.sleep(0.05)
        if session.requests:
            break
    await asyncio.sleep(0.2)
    assert any("келісім берілмеді" in t for t in texts(session.take()))
