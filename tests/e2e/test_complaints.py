"""A complaint end to end through the sandbox, by buttons: a parent files a complaint about a
kindergarten from the cabinet (kk and ru), the city's operator takes it and answers in /complaints,
and the parent receives each step and the answer in their own language."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.models import Complaint, ComplaintStatus, Phone, StaffRole
from core.people.staff import add_staff
from core.platform import clock
from core.platform.settings import Settings
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import (
    applicant_of,
    city_and_kindergarten,
    file_application,
    press_containing,
    t,
)

pytestmark = pytest.mark.e2e

OPERATOR_ID = 900000301


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=True) as running:
        yield running


@pytest.mark.parametrize(("user_id", "lang"), [(730001, "kk"), (730002, "ru")], ids=["kk", "ru"])
async def test_a_parent_files_a_complaint_and_receives_the_operators_answer(
    stack: Stack, settings: Settings, user_id: int, lang: str
) -> None:
    parent = stack.client(user_id, language_code=lang, first_name="Әсел")
    await parent.send("/start")
    await parent.expect()
    applicant = await applicant_of(user_id)
    await Phone.create(applicant=applicant, number=f"+7707{user_id:07d}", verified_at=clock.now())
    await file_application(applicant, settings)
    city, kindergarten = await city_and_kindergarten()
    name = kindergarten.name_kk if lang == "kk" else kindergarten.name_ru

    await parent.send(t("Personal cabinet", lang))
    await parent.expect(t("Choose a section.", lang))
    await parent.press(t("Complaints and reports", lang))
    await parent.expect(t("Complaints and reports", lang))
    await parent.press(t("File a complaint", lang))
    await parent.expect(t("What is it about?", lang))
    await parent.press(t("Complaint about a kindergarten", lang))
    await parent.expect(t("Which kindergarten is it about?", lang))
    await parent.press(name)
    describe = (
        "Describe what happened: where, when, who was involved. Up to {max} characters, in one "
        "message."
    )
    await parent.expect(t(describe, lang, max=settings.complaint_text_max))
    await parent.send("   ")
    await parent.expect(
        t("The complaint is empty. Please describe what happened in one message.", lang)
    )
    await parent.send("Воспитатель кричит на детей <b>каждый день</b>.")
    await parent.expect(t("Skip", lang))
    await parent.press(t("Skip", lang))
    preview = await parent.expect(t("Send the complaint?", lang))
    assert "каждый день" in preview.text and name in preview.text
    await parent.press(t("Send", lang))
    await parent.expect(t("The complaint is registered.", lang))
    complaint = await Complaint.get(applicant_id=applicant.id)

    await add_staff(OPERATOR_ID + user_id % 10, StaffRole.operator, by="test", city_code=city.code)
    operator = stack.client(OPERATOR_ID + user_id % 10, language_code="ru")
    await operator.send("/complaints")
    await operator.expect("Жалобы")
    await press_containing(operator, f"№{complaint.number}")
    card = await operator.expect("каждый день")
    assert "<b>каждый день</b>" in card.text  # typed markup is shown as typed, not applied
    await operator.press("Взять в работу")
    await parent.expect(
        t("Complaint №{number} has been taken into work.", lang, number=complaint.number)
    )
    taken = await operator.expect("Статус: в работе")
    assert "Родитель: +7707*****" in taken.text  # masked phone: no IIN given yet
    await operator.press("Ответить")
    await operator.expect("Напишите ответ")
    await operator.send("Проведена беседа с воспитателем.")
    await operator.expect("Отправить этот ответ")
    await operator.press("Отправить ответ")
    await operator.expect("родитель уведомлён")
    answer = await parent.expect(
        t("The answer to your complaint №{number}:", lang, number=complaint.number)
    )
    assert "Проведена беседа с воспитателем." in answer.text
    await complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.answered
    received = [message.text for message in await parent.messages()]
    assert any(t("Your complaint is registered.", lang) in text for text in received), received
