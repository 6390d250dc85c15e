"""Access recovery end to end through the sandbox: applicant A filed for a child whose legal
representative (the fake registry's word) is B; B confirms the family by the 1414 SMS, the
conversation goes on by itself, B pastes the code SMS sent to B's phone, and the application
moves from A's cabinet to B's; A is told (when, B's masked phone, what to do) and then logs out
with "Выйти": the cabinet asks for a new phone code; kk and ru."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from core.models import Application, Child, GovRequest, Person
from core.people import applicants
from core.platform.pii import mask_phone
from core.platform.settings import Settings
from devtools.sandbox.gov.personas import AIGERIM, persona_family
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import (
    applicant_of,
    captions,
    file_application,
    head,
    press_containing,
    sms_code,
    t,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings) as running:  # the worker tells the old account
        yield running


async def consent_by_sms(stack: Stack, request_id: str) -> None:
    """The parent answers the SMS from 1414: the fake registry calls the gov webhook back."""
    url = f"{stack.sandbox_url}/sandbox/gov/consent/{request_id}"
    async with stack.http.post(url, json={"consent": True}) as resp:
        assert resp.status == 200, await resp.text()


@pytest.mark.parametrize(
    ("a_id", "b_id", "lang"), [(740001, 740002, "kk"), (740011, 740012, "ru")], ids=["kk", "ru"]
)
async def test_the_legal_representative_recovers_the_application(
    stack: Stack, settings: Settings, a_id: int, b_id: int, lang: str
) -> None:
    # A (not the legal representative) filed for Aigerim's son Alikhan.
    a = stack.client(a_id, language_code=lang)
    await a.send("/start")
    await a.expect()
    a_applicant = await applicant_of(a_id)
    await applicants.verify_phone(a_applicant, f"+7707{a_id:07d}")
    alikhan = persona_family(AIGERIM, date.today()).children[1].person
    person = await Person.create(
        iin=alikhan.iin,
        last_name=alikhan.last_name,
        first_name=alikhan.first_name,
        middle_name=alikhan.middle_name,
        birth_date=alikhan.birth_date,
    )
    child = await Child.create(person=person, representative=a_applicant)
    application = await file_application(a_applicant, settings, child=child)

    # B is Aigerim, with her БМГ phone confirmed.
    b = stack.client(b_id, language_code=lang)
    await b.send("/start")
    await b.expect()
    b_applicant = await applicant_of(b_id)
    phone = AIGERIM.phones[0]
    await applicants.verify_phone(b_applicant, phone)

    await b.send(t("Personal cabinet", lang))
    await b.expect(t("Choose a section.", lang))
    await b.press(t("Restore access to an application", lang))
    await b.expect(head("If the application for your child was filed by someone else", lang))
    await b.press(t("Continue", lang))
    await b.expect(t("Type your IIN (12 digits).", lang))
    await b.send(sticker=True)
    await b.expect(t("Please type the answer as text.", lang))
    await b.send(AIGERIM.iin)
    await b.expect(t("Type the child's IIN (12 digits).", lang))
    await b.send(alikhan.iin)
    await b.expect(head("We asked the state registry to confirm your family.", lang))

    # Aigerim answers the 1414 SMS; no button to press: the code comes by itself.
    request = await GovRequest.get(applicant_id=b_applicant.id)
    await consent_by_sms(stack, request.request_id)
    await b.expect(head("You are confirmed as the child's legal representative.", lang))
    code = await sms_code(stack, phone)
    await b.send(f"Indigo: {code}")  # pasted with the words around the code
    await b.expect(
        t("Done. Now in your cabinet: {numbers}.", lang, numbers=f"№{application.number}")
    )
    await application.refresh_from_db()
    assert application.applicant_id == b_applicant.id

    # A is told in its own chat: which applications, when, by which (masked) phone, what to do.
    told = await a.expect(head("Your applications were moved to another account", lang))
    assert f"№{application.number}" in told.text
    assert mask_phone(phone) in told.text and phone not in told.text
    assert head("If you did not expect this and you are the child's legal", lang) in told.text

    await b.press(t("Back to the cabinet", lang))
    await b.expect(t("Choose a section.", lang))
    await b.press(t("My applications", lang))
    listing = await b.expect(t("My applications", lang))
    assert f"№{application.number}" in captions(listing)
    await press_containing(b, f"№{application.number}")
    card = await b.expect(t("Application №{number}", lang, number=application.number))
    assert alikhan.first_name in card.text

    # A's cabinet no longer has it.
    await a.send(t("Personal cabinet", lang))
    await a.expect(t("Choose a section.", lang))
    await a.press(t("My applications", lang))
    emptied = await a.expect(t("My applications", lang))
    assert t("You have no applications.", lang) in emptied.text
    assert not await Application.filter(applicant_id=a_applicant.id).exists()

    # A logs out: the cabinet then refuses until a new phone code, and says so.
    await a.press(t("Back", lang))
    await a.expect(t("Choose a section.", lang))
    await a.press(t("Exit", lang))
    await a.expect(head("Log out? Your applications stay in the queue;", lang))
    await a.press(t("Yes, log out", lang))
    await a.expect(head("You have logged out. Your applications stay in the queue;", lang))
    await a.send(t("Personal cabinet", lang))
    await a.expect(head("You have logged out. To open your applications again", lang))
