"""Staff pushes through the whole stack with the worker running: an operator releases seats with
/release and the first parents in the kindergarten's queue get the seat-offered push (deadline,
"Take the seat"); one takes the seat from the push, one declines the offer and keeps the place,
the next one hears when the seat opens to everybody. A /broadcast edits one progress message
live until done, parents read it in their language, a parent who blocked the bot is counted
(and gets an SMS); /broadcasts lists it. Parents cannot run staff commands. kk and ru."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from core.models import Applicant, Application, Broadcast, Notification, Referral, SeatRelease
from core.people import applicants
from core.people import staff as staff_service
from core.platform.settings import Settings
from core.views import cabinet
from devtools.client import BotMessage, E2EClient
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import (
    _catalog,
    applicant_of,
    city_and_kindergarten,
    file_application,
    press_containing,
    t,
)
from tests.fixtures.e2e_referral import DOCUMENT_LABELS, kindergarten_name, minute
from tests.fixtures.seats import make_group

pytestmark = pytest.mark.e2e

STAFF_ID = 745000


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=True) as running:
        yield running


async def parent(
    stack: Stack, settings: Settings, user_id: int, lang: str
) -> tuple[E2EClient, Applicant, Application]:
    """A parent who started the bot, confirmed a phone and has an application filed through
    core; the "application registered" push has reached the chat."""
    client = stack.client(user_id, language_code=lang)
    await client.send("/start")
    await client.expect()
    applicant = await applicant_of(user_id)
    await applicants.verify_phone(applicant, phone_of(user_id))
    application = await file_application(applicant, settings)
    await client.expect(f"№{application.number}", timeout=20)
    return client, applicant, application


def phone_of(user_id: int) -> str:
    return f"+7707{user_id:07d}"


def fixed(prefix: str, lang: str) -> str:
    """The translation, up to its first placeholder or tag, of the msgid starting with `prefix`."""
    found = [m for m in _catalog(lang)._catalog if isinstance(m, str) and m.startswith(prefix)]
    msgid = prefix if prefix in found else found[0] if len(found) == 1 else None
    assert msgid is not None, f"{len(found)} msgids start with {prefix!r}"
    return re.split(r"[{<]", t(msgid, lang))[0]


async def expect_offer(client: E2EClient, lang: str, number: int) -> BotMessage:
    text = t("A seat is free for application {number}.", lang, number=f"№{number}")
    return await client.expect(text, timeout=20)


# --- /release -> push -> take / decline -----------------------------------------------------


async def test_a_release_pushes_to_the_first_parents_who_take_or_decline_the_seat(
    stack: Stack, settings: Settings
) -> None:
    city, kindergarten = await city_and_kindergarten()
    # Queue order is filing order: ru first (declines), kk second (takes), the third waits.
    ru, ru_applicant, ru_app = await parent(stack, settings, 745001, "ru")
    kk, _, kk_app = await parent(stack, settings, 745002, "kk")
    late, _, late_app = await parent(stack, settings, 745003, "ru")
    group = await make_group(kindergarten, birth_year=ru_app.birth_year)
    place_before = (await cabinet.application_of(ru_applicant.id, ru_app.id, settings)).position
    assert place_before == 1

    await staff_service.add_staff(STAFF_ID, "operator", city_code=city.code, name="Оператор")
    staff = stack.client(STAFF_ID, language_code="ru")
    # A city has hundreds of kindergartens: /release finds one by a part of its name.
    await staff.send("/release Несуществующий")
    await staff.expect("«Несуществующий»")  # "nothing matches", not "outside your scope"
    await staff.send(f"/release {kindergarten.name_ru[:5].lower()}")
    listing = await staff.expect(t("Release seats. Choose the kindergarten:", "ru"))
    assert listing.buttons == [kindergarten.name_ru, t("Cancel", "ru")]
    await press_containing(staff, kindergarten.name_ru)
    await staff.expect(t("Choose the group:", "ru"))
    await press_containing(staff, group.name)
    await staff.expect(
        fixed("How many seats are free? Choose or send a number from 1 to {releasable}.", "ru")
    )
    await staff.press("2")
    await staff.expect(t("Priority window for the first applications in the queue:", "ru"))
    await press_containing(staff, fixed("As configured ({span})", "ru"))
    asked = await staff.expect(
        fixed("Release {count} seat(s) in {kindergarten}, group: {group}?\n{addressees}", "ru")
    )
    assert kindergarten.name_ru in asked.text and group.name in asked.text
    await staff.press(t("Release", "ru"))
    done = await staff.expect(fixed("Released {seats} seat(s).", "ru"))
    release = await SeatRelease.get(group_id=group.id)
    assert done.text == t(
        "Released {seats} seat(s). Parents notified: {addressees}. Priority until {deadline}.",
        "ru",
        seats=2,
        addressees=2,
        deadline=minute(release.priority_end_at, settings, "ru"),
    )

    # The first two parents in the queue are told at once, each in their language.
    pushes = {}
    for client, lang, app in ((ru, "ru", ru_app), (kk, "kk", kk_app)):
        push = await expect_offer(client, lang, app.number)
        assert kindergarten_name(kindergarten, lang) in push.text
        assert minute(release.priority_end_at, settings, lang) in push.text
        assert push.buttons == [t("Take the seat", lang)]
        pushes[lang] = push
    # Both pushes were written with the release (one transaction): none for the third.
    assert not await Notification.filter(
        applicant_id=late_app.applicant_id, kind="seat_offered"
    ).exists()
    assert not any(
        fixed("A seat is free for application {number}.", "ru") in m.text
        for m in await late.messages()
    ), "the third in the queue is not an addressee"

    # kk takes the seat straight from the pushed message: the referral step for that seat.
    await kk.press(
        callback_data=pushes["kk"].button(t("Take the seat", "kk"))["callback_data"],
        message_id=pushes["kk"].message_id,
    )
    confirm = await kk.expect(
        t("Get a referral for application №{number}", "kk", number=kk_app.number)
    )
    assert kindergarten.name_kk in confirm.text
    await kk.press(t("Get the referral", "kk"))
    issued = await kk.expect(t("Documents to bring:", "kk"))
    referral = await Referral.get(application_id=kk_app.id)
    assert t("Referral №{number} is issued.", "kk", number=referral.number) in issued.text
    valid = t("Valid until: {when}", "kk", when=minute(referral.expires_at, settings, "kk"))
    assert valid in issued.text
    for label in (DOCUMENT_LABELS["birth_certificate"], DOCUMENT_LABELS["referral"]):
        assert t(label, "kk") in issued.text
    # ... and the worker confirms it with the referral_issued push.
    await kk.expect(str(referral.number), timeout=20)

    # ru opens the same step from the push and declines the offer right there.
    await ru.press(
        callback_data=pushes["ru"].button(t("Take the seat", "ru"))["callback_data"],
        message_id=pushes["ru"].message_id,
    )
    await ru.expect(t("Get a referral for application №{number}", "ru", number=ru_app.number))
    await ru.press(t("Decline the offer", "ru"))
    await ru.expect(fixed("Decline this offer?", "ru"))
    await ru.press(t("Yes, decline", "ru"))
    await ru.expect(
        t("You declined the offer. Your application keeps its place in the queue.", "ru")
    )

    await ru_app.refresh_from_db()
    assert str(ru_app.status) == "active"
    card = await cabinet.application_of(ru_applicant.id, ru_app.id, settings)
    assert card.position == place_before
    assert not await Referral.exists(application_id=ru_app.id)

    # The declined seat opens to everybody: the next one in the queue hears of it.
    general = await expect_offer(late, "ru", late_app.number)
    assert (
        t("The seat is open to everyone in the queue: the first to take it gets it.", "ru")
        in general.text
    )


# --- /broadcast with live progress -------------------------------------------------------------


async def test_a_broadcast_shows_live_progress_and_counts_the_blocked(
    settings: Settings, db: None, redis: object
) -> None:
    # A slow global rate, so that the progress message has something to show on its way.
    async with run_stack(
        settings=settings, worker=True, settings_overrides={"send_rate_per_second": 2}
    ) as stack:
        city, _ = await city_and_kindergarten()
        kk, *_ = await parent(stack, settings, 746001, "kk")
        ru, *_ = await parent(stack, settings, 746002, "ru")
        ru2, *_ = await parent(stack, settings, 746003, "ru")
        gone, *_ = await parent(stack, settings, 746004, "ru")
        await gone.block()

        await staff_service.add_staff(STAFF_ID, "operator", city_code=city.code)
        staff = stack.client(STAFF_ID, language_code="ru")
        await staff.send("/broadcast")
        await staff.expect(fixed("New broadcast. Send the text in Kazakh", "ru"))
        text_kk = "Ертең бөбекжайлар санитарлық күнге байланысты жабық."
        text_ru = "Завтра детские сады закрыты на санитарный день."
        await staff.send(text_kk)
        await staff.expect(t("Now send the text in Russian.", "ru"))
        await staff.send(text_ru)
        await staff.expect(fixed("Who receives it?", "ru"))
        await staff.send("all")
        preview = await staff.expect(fixed("Recipients: {count}.", "ru"))
        assert fixed("Recipients: {count}.", "ru") + "4." in preview.text
        assert text_kk in preview.text and text_ru in preview.text
        await staff.press(t("Send", "ru"))

        # One message, edited in place until the broadcast is done.
        remaining_label = fixed("Remaining: {count}", "ru")
        finished = t("finished", "ru")
        seen: list[BotMessage] = []
        while not seen or finished not in seen[-1].text:
            seen.append(await staff.expect(remaining_label, timeout=30))
        progress_ids = {m.message_id for m in seen}
        assert len(progress_ids) == 1, "progress is one message"
        remaining = [int(re.search(re.escape(remaining_label) + r"(\d+)", m.text)[1]) for m in seen]
        assert remaining[0] > 0 and remaining[-1] == 0, [m.text for m in seen]
        assert remaining == sorted(remaining, reverse=True)
        final = seen[-1]
        assert t("Sent: {count}", "ru", count=3) in final.text
        assert t("Blocked the bot: {count}", "ru", count=1) in final.text
        assert t("Failed: {count}", "ru", count=0) in final.text
        assert final.edited >= 2

        # Parents read it in their language; the one who blocked the bot gets an SMS instead.
        await kk.expect(text_kk, timeout=20)
        for client in (ru, ru2):
            await client.expect(text_ru, timeout=20)
        assert not any(text_ru in m.text or text_kk in m.text for m in await gone.messages())
        sms = await stack.sms_inbox(phone_of(746004))
        assert any(text_ru in m["text"] for m in sms), sms

        assert await Broadcast.all().count() == 1
        await staff.send("/broadcasts")
        await staff.expect(
            t(
                "Sent {sent}, failed {failed}, blocked {blocked}, remaining {remaining} of {total}",
                "ru",
                sent=3,
                failed=0,
                blocked=1,
                remaining=0,
                total=4,
            )
        )


# --- parents cannot run staff commands --------------------------------------------------------


async def test_a_parent_sending_release_is_refused_politely(stack: Stack) -> None:
    refusal = (
        "Sorry, this command is only for employees of education departments and "
        "kindergartens. Press /start for the main menu."
    )
    for user_id, lang in ((747001, "kk"), (747002, "ru")):
        client = stack.client(user_id, language_code=lang)
        await client.send("/start")
        await client.expect()
        for command in ("/release", "/broadcast"):
            await client.send(command)
            await client.expect(t(refusal, lang))
    assert not await SeatRelease.exists()
    assert not await Broadcast.exists()
