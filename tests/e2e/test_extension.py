"""The extension questionnaire end to end through the sandbox, in Kazakh, with the campaign
open: six questions answered, the application extended by a year, the answers shown back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from babel.numbers import format_decimal

from bot.texts.formats import fmt_date
from core.models import ExtensionAnswers
from core.people import applicants
from core.platform.settings import Settings
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import (
    applicant_of,
    city_and_kindergarten,
    file_application,
    head,
    press_containing,
    t,
)

pytestmark = pytest.mark.e2e

LANG = "kk"
OFF, ON, RADIO = "▫️ ", "✅ ", "⚪ "


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    open_all_year = {"extension_opens": "01-01", "extension_deadline": "12-31"}
    async with run_stack(open_all_year, settings=settings, worker=False) as running:
        yield running


async def test_a_parent_answers_the_questionnaire_in_kazakh_and_extends_the_application(
    stack: Stack, settings: Settings
) -> None:
    user_id = 750001
    parent = stack.client(user_id, language_code=LANG)
    await parent.send("/start")
    await parent.expect()
    applicant = await applicant_of(user_id)
    await applicants.verify_phone(applicant, f"+7707{user_id:07d}")
    application = await file_application(applicant, settings)
    _, kindergarten = await city_and_kindergarten()
    valid_before = application.valid_until

    def k(msgid: str, **params: object) -> str:
        return t(msgid, LANG, **params)

    await parent.send(k("Personal cabinet"))
    await parent.expect(k("Choose a section."))
    await parent.press(k("Questionnaire (extension)"))
    await parent.expect(head("Read before filling in the questionnaire.", LANG))
    await parent.press(k("Fill in the questionnaire"))

    await parent.expect(k("Question 1 of 6"))
    await parent.press(OFF + kindergarten.name_kk)
    await parent.expect(k("Question 1 of 6"))
    await parent.press(k("Next"))

    await parent.expect(k("Question 2 of 6"))
    await parent.press(RADIO + k("State"))
    await parent.expect(k("Question 2 of 6"))
    await parent.press(OFF + k("Quality"))
    await parent.expect(k("Question 2 of 6"))
    await parent.press(k("Next"))

    await parent.expect(k("Question 3 of 6"))
    await parent.press(RADIO + k("Kazakh"))
    await parent.expect(k("Question 3 of 6"))
    await parent.press(k("Next"))

    payment = await parent.expect(k("Question 4 of 6"))
    fifty = k("up to {amount} ₸", amount=format_decimal(50000, locale="kk_KZ"))
    assert RADIO + fifty in payment.buttons
    await parent.press(RADIO + fifty)
    await parent.expect(k("Question 4 of 6"))
    await parent.press(k("Next"))

    await parent.expect(k("Question 5 of 6"))
    await parent.press(OFF + k("Chess"))
    await parent.expect(k("Question 5 of 6"))
    await parent.press(OFF + k("Other"))
    await parent.expect(k("Question 5 of 6"))
    await parent.press(k("Next"))
    await parent.expect(k("Type which other activities interest you."))
    await parent.send("Жүзу")

    await parent.expect(k("Question 6 of 6"))
    await parent.press(OFF + k("Cashless payments"))
    await parent.expect(k("Question 6 of 6"))
    await parent.press(k("Next"))

    await parent.expect(k("Choose the applications to extend by one year."))
    await press_containing(parent, f"№{application.number}")
    chosen = await parent.expect(k("Choose the applications to extend by one year."))
    assert k("Extend applications ({count} pcs.)", count=1) in chosen.buttons
    await parent.press(k("Extend applications ({count} pcs.)", count=1))
    await parent.expect(
        k("Thank you! Your answers are saved and the applications are extended by one year.")
    )

    await application.refresh_from_db()
    assert application.valid_until > valid_before
    stored = await ExtensionAnswers.get(applicant_id=applicant.id)
    assert stored.answers["activities"] == ["chess"]
    assert stored.answers["activities_other"] == "Жүзу"
    assert stored.answers["language"] == "kk"

    await parent.press(k("View the questionnaire"))
    shown = await parent.expect(head("Questionnaire of {date}", LANG))
    assert kindergarten.name_kk in shown.text
    assert f"{k('Chess')}, Жүзу" in shown.text
    assert k("Cashless payments") in shown.text and k("State") in shown.text
    assert format_decimal(50000, locale="kk_KZ") in shown.text  # the payment chosen
    until = fmt_date(application.valid_until, LANG)
    assert k("№{number}: valid until {date}", number=application.number, date=until) in shown.text
