"""The personal cabinet end to end through the sandbox (real Bot over HTTP, PostgreSQL, Redis):
phone confirmation by the SMS code, applications, withdrawal with a confirmation, the event
feed, the language switch, and a phone number replaced in the settings; kk and ru."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.texts.formats import phone_text
from core.models import Application, ApplicationStatus, Phone
from core.platform.settings import Settings
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import (
    applicant_of,
    captions,
    file_application,
    head,
    other_code,
    press_containing,
    sms_code,
    t,
)

pytestmark = pytest.mark.e2e

MENU_FIRST_ROW = {
    "kk": ["Кезекке тұру", "Кезекті тексеру"],
    "ru": ["Встать в очередь", "Проверить очередь"],
}


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=False) as running:
        yield running


@pytest.mark.parametrize(
    ("user_id", "lang", "other"), [(720001, "kk", "ru"), (720002, "ru", "kk")], ids=["kk", "ru"]
)
async def test_a_parent_confirms_the_phone_withdraws_an_application_and_switches_language(
    stack: Stack, settings: Settings, user_id: int, lang: str, other: str
) -> None:
    phone = f"+7707{user_id:07d}"
    parent = stack.client(user_id, language_code=lang, first_name="Әсел", phone=phone)
    await parent.send("/start")
    await parent.expect()
    applicant = await applicant_of(user_id)
    kept = await file_application(applicant, settings)
    withdrawn = await file_application(applicant, settings)

    # No confirmed phone yet: the cabinet asks for one first.
    await parent.send(t("Personal cabinet", lang))
    ask = await parent.expect()
    assert t("Share my contact", lang) in ask.buttons
    await parent.press(t("Share my contact", lang))
    await parent.expect(head("We have sent an SMS with a 6-digit code to {phone}. ", lang))
    code = await sms_code(stack, phone)

    await parent.send(other_code(code))
    await parent.expect(t("Wrong code. Tries left: {attempts_left}.", lang, attempts_left=4))
    await parent.send(code)
    await parent.expect(t("The number {phone} is confirmed.", lang, phone=phone_text(phone)))
    main = await parent.expect(t("Choose a section.", lang))
    assert t("My applications", lang) in main.buttons
    assert await Phone.filter(applicant_id=applicant.id, verified_at__isnull=False).count() == 1

    # Both applications are listed; the card shows the position and the validity.
    await parent.press(t("My applications", lang))
    listing = await parent.expect(t("My applications", lang))
    assert f"№{kept.number}" in captions(listing)
    assert f"№{withdrawn.number}" in captions(listing)
    await press_containing(parent, f"№{withdrawn.number}")
    card = await parent.expect(t("Application №{number}", lang, number=withdrawn.number))
    assert head("Position in the city queue ({year}): {position}", lang) in card.text
    assert head("Valid until: {date}", lang) in card.text

    # Withdrawing asks first; "No" keeps the application.
    await parent.press(t("Withdraw the application", lang))
    await parent.expect(head("Withdraw application №{number}? ", lang))
    await parent.press(t("No", lang))
    await parent.expect(t("Application №{number}", lang, number=withdrawn.number))
    await withdrawn.refresh_from_db()
    assert withdrawn.status == ApplicationStatus.active

    await parent.press(t("Withdraw the application", lang))
    await parent.expect(head("Withdraw application №{number}? ", lang))
    await parent.press(t("Yes, withdraw", lang))
    await parent.expect(t("The application has been withdrawn.", lang))
    listing = await parent.expect(t("My applications", lang))
    assert t("Archived: withdrawn", lang) in captions(listing)
    assert t("In the queue", lang) in captions(listing)
    await withdrawn.refresh_from_db()
    assert withdrawn.status == ApplicationStatus.archived
    assert (await Application.get(id=kept.id)).status == ApplicationStatus.active

    # The event feed shows both registrations.
    await parent.press(t("Back", lang))
    await parent.expect(t("Choose a section.", lang))
    await press_containing(parent, head("Event feed ({feed_total})", lang))
    feed = await parent.expect(t("Event feed, page {page} of {pages}", lang, page=1, pages=1))
    assert str(kept.number) in feed.text and str(withdrawn.number) in feed.text

    # The language switch: the answer and the main menu keyboard speak the new language.
    await parent.press(t("Back", lang))
    await parent.expect(t("Choose a section.", lang))
    await parent.press(t("Settings", lang))
    await parent.expect(head("Language: {language}", lang))
    await parent.press(t("Language", lang))
    await parent.expect(t("Choose the language.", lang))
    await parent.press({"kk": "Қазақ тілі", "ru": "Русский язык"}[other])
    changed = await parent.expect(t("The language is changed.", other))
    assert changed.reply_keyboard is not None
    assert changed.reply_keyboard[0] == MENU_FIRST_ROW[other]
    settings_window = await parent.expect(head("Language: {language}", other))
    assert t("Phone numbers", other) in settings_window.buttons
    await applicant.refresh_from_db()
    assert str(applicant.language) == other


async def test_a_new_phone_number_replaces_the_old_one_after_its_code(
    stack: Stack, settings: Settings
) -> None:
    lang, user_id = "ru", 720003
    old, new = "+77071234501", "+77071234502"
    parent = stack.client(user_id, language_code=lang, phone=old)
    await parent.send("/start")
    await parent.expect()
    await parent.send(t("Personal cabinet", lang))
    await parent.expect()
    await parent.press(t("Share my contact", lang))
    await parent.send(await sms_code(stack, old))
    await parent.expect(t("Choose a section.", lang))

    await parent.press(t("Settings", lang))
    await parent.expect(head("Language: {language}", lang))
    await parent.press(t("Phone numbers", lang))
    phones = await parent.expect(head("Your phone numbers.", lang))
    assert phone_text(old) in captions(phones)  # grouped as people write it
    await press_containing(parent, phone_text(old))
    await parent.expect(head("Type the new phone number", lang))
    await parent.send("8 707 123 45 02")
    await parent.expect(t("We sent a code to {phone}. Type it here.", lang, phone=phone_text(new)))
    code = await sms_code(stack, new)
    assert await stack.sms_inbox(old) and len(await stack.sms_inbox(old)) == 1  # not to the old

    await parent.send(other_code(code))
    await parent.expect(t("Wrong code. Tries left: {attempts_left}.", lang, attempts_left=4))
    await parent.send(code)
    await parent.expect(t("The number {phone} is confirmed.", lang, phone=phone_text(new)))
    shown = await parent.expect(head("Phone numbers: {phones}", lang))
    assert phone_text(new) in shown.text and phone_text(old) not in shown.text
    applicant = await applicant_of(user_id)
    numbers = await Phone.filter(applicant_id=applicant.id).values_list("number", flat=True)
    assert numbers == [new]
