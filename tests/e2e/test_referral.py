"""Getting a referral end to end through the sandbox: the addressee of a seat release takes it
(validity to the minute, documents to bring), two parents race for the last seat in general
access, a stale button and a sticker where a button is expected; kk and ru."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.models import Applicant, Referral
from core.people import applicants
from core.platform.settings import Settings
from core.referrals.documents import documents_for
from core.seats import releases
from devtools.client import WAIT_BUDGET, BotMessage, E2EClient
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import (
    applicant_of,
    city_and_kindergarten,
    file_application,
    group_text,
    press_containing,
    t,
)
from tests.fixtures.e2e_referral import DOCUMENT_LABELS, kindergarten_name, minute
from tests.fixtures.seats import make_group

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=False) as running:
        yield running


async def parent_with_application(
    stack: Stack, settings: Settings, user_id: int, lang: str
) -> tuple[E2EClient, Applicant, int]:
    """A parent who talked to the bot, has a confirmed phone and one application."""
    parent = stack.client(user_id, language_code=lang)
    await parent.send("/start")
    await parent.expect()
    applicant = await applicant_of(user_id)
    await applicants.verify_phone(applicant, f"+7707{user_id:07d}")
    application = await file_application(applicant, settings)
    return parent, applicant, application.number


async def to_confirmation(
    parent: E2EClient, lang: str, number: int, kindergarten: str
) -> BotMessage:
    await parent.send(t("Get a referral", lang))
    await parent.expect(t("Choose the application.", lang))
    await press_containing(parent, f"№{number}")
    await parent.expect(t("Application №{number}", lang, number=number))
    await parent.press(t("Search for free seats", lang))
    await parent.expect(t("Kindergartens with free seats for your child:", lang))
    await press_containing(parent, kindergarten)
    await parent.expect(t("Choose the group.", lang))
    await press_containing(parent, "Средняя группа")
    return await parent.expect(t("Get a referral for application №{number}", lang, number=number))


@pytest.mark.parametrize(("user_id", "lang"), [(730001, "kk"), (730002, "ru")], ids=["kk", "ru"])
async def test_the_addressee_of_a_release_gets_the_referral(
    stack: Stack, settings: Settings, user_id: int, lang: str
) -> None:
    parent, applicant, number = await parent_with_application(stack, settings, user_id, lang)
    _, kindergarten = await city_and_kindergarten()
    application = await applicant.applications.all().first()
    group = await make_group(kindergarten, birth_year=application.birth_year)
    release = await releases.release_seats(group.id, 1, actor="staff:test", settings=settings)

    await parent.send(t("Get a referral", lang))
    await parent.expect(t("Choose the application.", lang))
    await press_containing(parent, f"№{number}")
    search = await parent.expect(t("Application №{number}", lang, number=number))
    offered = t(
        "A seat is offered to you in {kindergarten}, group {group}, until {when}.",
        lang,
        kindergarten=kindergarten_name(kindergarten, lang),
        group=group_text(group, lang),
        when=minute(release.priority_end_at, settings, lang),
    )
    assert offered in search.text
    await parent.press(t("Search for free seats", lang))
    listing = await parent.expect(t("Kindergartens with free seats for your child:", lang))
    assert any(kindergarten_name(kindergarten, lang) in b and "⭐" in b for b in listing.buttons)

    # A sticker where a button is expected: a hint, and the list again below it.
    await parent.send(sticker=True)
    hint = await parent.expect(t("Please use the buttons under the message below.", lang))
    again = await parent.expect(t("Kindergartens with free seats for your child:", lang))
    while again.message_id < hint.message_id:  # the old list losing its buttons comes first
        again = await parent.expect(t("Kindergartens with free seats for your child:", lang))
    assert any(kindergarten_name(kindergarten, lang) in b for b in again.buttons)
    await press_containing(parent, kindergarten_name(kindergarten, lang))
    await parent.expect(t("Choose the group.", lang))
    await press_containing(parent, "Средняя группа")
    confirm = await parent.expect(
        t("Get a referral for application №{number}", lang, number=number)
    )
    take = confirm.button(t("Get the referral", lang))
    await parent.press(t("Get the referral", lang))

    issued = await parent.expect(t("Documents to bring:", lang))
    referral = await Referral.get(application__applicant_id=applicant.id)
    assert t("Referral №{number} is issued.", lang, number=referral.number) in issued.text
    until = minute(referral.expires_at, settings, lang)
    assert t("Valid until: {when}", lang, when=until) in issued.text
    assert t("Time left: {left}", lang, left="") in issued.text
    for code in documents_for("general"):
        assert t(DOCUMENT_LABELS[code], lang) in issued.text

    # The flow is over; the old "Get the referral" button only earns a polite answer.
    await parent.press(t("Done", lang))
    closed = await parent.expect()  # the finished conversation loses its buttons
    assert closed.message_id == issued.message_id and not closed.buttons
    await parent.press(callback_data=take["callback_data"], message_id=confirm.message_id)
    await parent.expect_alert(t("This button is outdated. Here is the main menu.", lang))
    await parent.expect(t("This button is outdated. Here is the main menu.", lang))
    assert await Referral.filter(application__applicant_id=applicant.id).count() == 1


async def test_two_parents_race_for_the_last_seat_in_general_access(
    stack: Stack, settings: Settings
) -> None:
    kk, kk_applicant, kk_number = await parent_with_application(stack, settings, 730011, "kk")
    ru, ru_applicant, ru_number = await parent_with_application(stack, settings, 730012, "ru")
    _, kindergarten = await city_and_kindergarten()
    application = await kk_applicant.applications.all().first()
    group = await make_group(kindergarten, birth_year=application.birth_year)
    await releases.release_seats(
        group.id, 1, actor="staff:test", settings=settings, window=timedelta(0)
    )

    await asyncio.gather(
        to_confirmation(kk, "kk", kk_number, kindergarten.name_kk),
        to_confirmation(ru, "ru", ru_number, kindergarten.name_ru),
    )
    await asyncio.gather(
        kk.press(t("Get the referral", "kk")), ru.press(t("Get the referral", "ru"))
    )
    # The claim is atomic: the first referral decides the winner; the other press is refused.
    referrals = await _first_referrals()
    won_by_kk = referrals[0].application.applicant_id == kk_applicant.id
    winner, winner_lang = (kk, "kk") if won_by_kk else (ru, "ru")
    loser, loser_lang = (ru, "ru") if won_by_kk else (kk, "kk")
    await winner.expect(t("Referral №{number} is issued.", winner_lang, number=referrals[0].number))
    await loser.expect(
        t(
            "Sorry, someone else has just taken the last seat in this group. "
            "Here is the fresh list of free seats.",
            loser_lang,
        )
    )
    assert await Referral.all().count() == 1  # both presses are answered: one seat, one referral
    fresh = await loser.expect(t("Kindergartens with free seats for your child:", loser_lang))
    assert (
        t(
            "No free seats for your child right now. When seats are freed, the first "
            "applications in line are told at once; seats open to everyone also appear here.",
            loser_lang,
        )
        in fresh.text
    )
    assert not any(kindergarten.name_ru in b or kindergarten.name_kk in b for b in fresh.buttons)
    assert ru_applicant.id != kk_applicant.id


async def _first_referrals() -> list[Referral]:
    """The referrals once the first exists (the stack processes the presses in the background)."""
    deadline = time.monotonic() + WAIT_BUDGET
    while not (referrals := await Referral.all().prefetch_related("application")):
        assert time.monotonic() < deadline, "neither press issued a referral"
        await asyncio.sleep(0.05)
    return referrals
