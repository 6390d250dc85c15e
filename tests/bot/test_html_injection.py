"""Markup typed into the bot is shown as typed (the bot sends with parse mode HTML).

Every free-text input of the bot (the directory search, the IIN fields, the questionnaire's
"Other", the names of a child without an IIN, the recovery, "Check the queue", the staff's
rejection reason and broadcast texts, an unknown text, a /start payload) gets
`<b>x</b> <a href="https://evil.example">y</a>` and `<i>unclosed`. Every message the bot sent
in answer is parsed the way Telegram parses HTML (the sandbox's parser): a text Telegram would
refuse ("can't parse entities") fails the test, a link to evil.example in the bot's voice fails
it, and where the bot repeats the input it must read exactly as typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiogram.methods import TelegramMethod

from bot.i18n import make_i18n
from bot.notifications.render import render
from core.models import BenefitStatus, ExtensionAnswers, Kindergarten, Language, Stream
from core.notifications.kinds import BenefitRejected, Broadcast
from core.people import applicants
from core.people.iin import make_iin
from core.platform.events import FAMILY_RESULT
from core.registry import family_requests
from devtools.sandbox.telegram.markup import parse_html
from indigo.app import build_app, close_app
from tests.bot.test_submission_dialog import (
    PARENT_IIN,
    button,
    parent_with_phones,
    start_wizard,
    use_fake_gov,
)
from tests.fixtures.bot import Chatter, Parent, RecordingSession
from tests.fixtures.cabinet import make_family
from tests.fixtures.e2e_cabinet import applicant_of, t
from tests.fixtures.seats import make_application, make_city, make_kindergarten
from tests.fixtures.worker import make_staff

LINK = '<b>x</b> <a href="https://evil.example">y</a>'
UNCLOSED = "<i>unclosed"
PAYLOADS = (LINK, UNCLOSED)
FAILED = ("что-то пошло не так", "бірдеңе дұрыс болмады")


def seen(requests: list[TelegramMethod[Any]]) -> list[str]:
    """The plain texts the chat shows, each parsed as Telegram parses an HTML message."""
    shown = []
    for request in requests:
        if not hasattr(request, "parse_mode"):  # a callback alert: plain text
            continue
        for field in ("text", "caption"):
            raw = getattr(request, field, None)
            if not isinstance(raw, str):
                continue
            # parse_html raises what Telegram answers with "can't parse entities".
            text, entities = parse_html(raw)
            links = [e for e in entities if "evil.example" in str(e.get("url", ""))]
            assert not links, f"a link from the input in the bot's words: {raw!r}"
            assert not any(phrase in text.lower() for phrase in FAILED), text
            shown.append(text)
    return shown


def shows_as_typed(requests: list[TelegramMethod[Any]], payload: str) -> str:
    """The bot answered, and its answer repeats `payload` literally (no tag became markup)."""
    shown = "\n".join(seen(requests))
    assert payload in shown, shown
    return shown


def answered_safely(requests: list[TelegramMethod[Any]]) -> str:
    shown = "\n".join(seen(requests))
    assert shown, "no answer"
    return shown


def _iin(born: date) -> str:
    return next(v for s in range(1, 100) if (v := make_iin(born, True, s)))


# --- parents ---------------------------------------------------------------------------------


async def test_a_directory_search_shows_the_typed_markup_as_text(bot_app: Any) -> None:
    app, session = bot_app
    city = await make_city()
    await Kindergarten.create(
        city=city,
        name_ru="Ясли-сад «Балапан»",
        name_kk="«Балапан» бөбекжай-бақшасы",
        ownership="state",
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=51.13,
        longitude=71.43,
        languages="kk,ru",
    )
    parent = Chatter(app, session, 820001, "ru")
    await parent.send("Детские сады")
    for payload in PAYLOADS:
        shown = shows_as_typed(await parent.send(payload), payload)
        assert "не найдены" in shown
    # A name pasted with an invisible mark still finds the kindergarten.
    assert "Найдено детских садов: 1" in answered_safely(await parent.send("балапан\u200b"))


async def test_check_queue_and_menu_texts_show_the_markup_as_text(bot_app: Any) -> None:
    app, session = bot_app
    parent = Chatter(app, session, 820002, "ru")
    await parent.send("/start")
    for payload in PAYLOADS:
        assert "Я не понял" in answered_safely(await parent.send(payload))
        answered_safely(await parent.send(f"/start {payload}"))
    await parent.send("Проверить очередь")
    for payload in PAYLOADS:
        assert "ИИН" in answered_safely(await parent.send(payload))


async def test_an_iin_pasted_with_invisible_marks_is_accepted(bot_app: Any) -> None:
    app, session = bot_app
    parent = Chatter(app, session, 820003, "ru")
    await parent.send("Проверить очередь")
    iin = f"\u200f\u200b{_iin(date(2021, 4, 5))}\ufeff"  # as pasted from a right-to-left chat
    assert answered_safely(await parent.send(iin)) == "По этому ИИН заявлений не найдено."
    # A /start deep link that is not an application number (10^30, other digits) is "not found".
    for payload in ("1" + "0" * 30, "١٢٨٩٠١٢"):
        assert "не найдено" in answered_safely(await parent.send(f"/start {payload}")).lower()


async def test_the_wizard_shows_typed_markup_as_text_in_every_text_step(bot_app: Any) -> None:
    app, session = bot_app
    gov = use_fake_gov(app)
    await make_city()
    await parent_with_phones(820004)
    parent = Chatter(app, session, 820004, "ru")
    sent = await start_wizard(parent)
    sent = await parent.press(button(sent, "уведомлений"))
    sent = await parent.press(button(sent, "оферты"))
    await parent.press(button(sent, "общеобразовательную"))
    for payload in PAYLOADS:
        assert "ИИН" in answered_safely(await parent.send(payload))
    # The parent's IIN pasted with a right-to-left mark is taken.
    answered_safely(await parent.send(f"\u200f{PARENT_IIN}\u200b"))
    assert gov.requests == [PARENT_IIN]

    request = await family_requests.complete(
        {
            "request_id": "req-1",
            "parent_iin": PARENT_IIN,
            "consent": True,
            "children": [
                {
                    "iin": _iin(date(2023, 3, 1)),
                    "last_name": "<b>Сейткали</b>",  # a registry name is shown as text too
                    "first_name": "Алихан",
                    "middle_name": "",
                    "birth_date": "2023-03-01",
                    "sex": "male",
                    "legal_representative": True,
                }
            ],
            "benefits": [],
        }
    )
    await app.events.publish(
        FAMILY_RESULT,
        {"request_id": "req-1", "applicant_id": request.applicant_id, "consent": True},
    )
    for _ in range(50):
        await asyncio.sleep(0.05)
        if session.requests:
            break
    await asyncio.sleep(0.2)
    window = session.take()
    answered_safely(window)

    # A child without an IIN: the names are letters only, refused politely.
    names = await parent.press(button(window, "нет в списке"))
    answered_safely(names)
    for payload in PAYLOADS:
        assert "только буквами" in answered_safely(await parent.send(payload))
    await parent.send("Ахметова")
    for payload in PAYLOADS:
        first_name = await parent.send(payload)
        assert "только буквами" in answered_safely(first_name)

    # Back to the registry's children: step 2 names them as text, the search repeats the query.
    last_name = await parent.press(button(first_name, "Назад"))
    children = await parent.press(button(last_name, "Назад"))
    step2 = await parent.press(button(children, "Алихан"))
    shows_as_typed(step2, "<b>Сейткали</b>")
    for payload in PAYLOADS:
        await parent.press(button(step2, "Поиск по названию"))
        results = await parent.send(payload)
        shows_as_typed(results, payload)
        step2 = await parent.press(button(results, "Назад"))


@pytest.fixture
async def campaign_app(settings: Any, db: None, redis: Any) -> AsyncIterator[Any]:
    open_all_year = settings.model_copy(
        update={"extension_opens": "01-01", "extension_deadline": "12-31"}
    )
    session = RecordingSession()
    app = await build_app(open_all_year, bot_session=session, init_database=False)
    try:
        yield app, session
    finally:
        await close_app(app)


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_the_questionnaire_shows_the_typed_other_answer_as_text(
    campaign_app: Any, payload: str
) -> None:
    user_id = 820010 + PAYLOADS.index(payload)
    family = await make_family(user_id, "ru")
    parent = Parent(campaign_app, user_id, "ru")
    await parent.send("Личный кабинет")
    await parent.press("Анкета")
    await parent.press("Заполнить анкету")
    await parent.press("Ясли-сад №1")
    await parent.press("Далее")
    await parent.press("Государственная")
    await parent.press("Качество")
    await parent.press("Далее")
    await parent.press("Русский")
    await parent.press("Далее")
    await parent.press("до 50")
    await parent.press("Далее")
    await parent.press("Другое")
    await parent.press("Далее")
    await parent.send(payload)
    seen(parent.seen)
    await parent.press("Другое")
    await parent.press("Далее")
    await parent.send(payload)
    seen(parent.seen)
    await parent.press(f"№{family.application.number}")
    await parent.press("Продлить заявления (1 шт.)")
    assert (await ExtensionAnswers.get(applicant_id=family.parent.id)).answers[
        "activities_other"
    ] == payload

    await parent.press("Посмотреть анкету")
    shown = shows_as_typed(parent.seen, payload)
    assert f"Другое: {payload}" not in shown and "5. " in shown


async def test_recovery_iins_and_code_show_the_markup_as_text(bot_app: Any) -> None:
    user_id = 820020
    parent = Parent(bot_app, user_id, "ru")
    await parent.send("/start")
    await applicants.verify_phone(await applicant_of(user_id), "+77033330021")
    await parent.send(t("Personal cabinet", "ru"))
    await parent.press(t("Restore access to an application", "ru"))
    await parent.press(t("Continue", "ru"))
    for payload in PAYLOADS:
        await parent.send(payload)
        assert "ИИН" in answered_safely(parent.seen)
    await parent.send("\u200f920127433104")
    for payload in PAYLOADS:
        await parent.send(payload)
        assert "ИИН" in answered_safely(parent.seen)


async def test_phone_confirmation_shows_the_markup_as_text(bot_app: Any) -> None:
    parent = Parent(bot_app, 820021, "ru")
    await parent.send("/start")
    assert "Подтверждение телефона" in await parent.send("Личный кабинет")
    for payload in PAYLOADS:
        await parent.send(payload)
        assert "номер" in answered_safely(parent.seen).lower()


async def test_a_new_phone_number_in_settings_shows_the_markup_as_text(bot_app: Any) -> None:
    await make_family(820022, "ru")
    parent = Parent(bot_app, 820022, "ru")
    await parent.send("Личный кабинет")
    await parent.press("Настройки")
    await parent.press("Номера телефонов")
    await parent.press("Добавить номер")
    for payload in PAYLOADS:
        await parent.send(payload)
        assert "номер" in answered_safely(parent.seen).lower()


# --- staff -----------------------------------------------------------------------------------


async def test_a_rejection_reason_with_markup_reaches_the_parent_as_text(
    bot_app: Any, settings: Any
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    for n, payload in enumerate(PAYLOADS):
        application = await make_application(
            city=city, choices=[(kindergarten, Language.ru)], stream=Stream.extraordinary
        )
        application.benefit_category = 4
        application.benefit_status = BenefitStatus.pending
        await application.save()
        staff_id = 820030 + n
        await make_staff(staff_id)
        staff = Parent(bot_app, staff_id, "ru")
        await staff.send("/benefits")
        await staff.press("Отклонить")
        answered_safely(staff.seen)
        # "Other": the reason is typed, then shown in the preview before it is sent.
        await staff.press(make_i18n().gettext("Other: type the reason", locale="ru"))
        await staff.send(payload)
        assert f"№{application.number}" in answered_safely(staff.seen) or str(
            application.number
        ) in answered_safely(staff.seen)
        await staff.press("Отклонить")
        answered_safely(staff.seen)
        await application.refresh_from_db()
        assert application.benefit_status == BenefitStatus.rejected

    # What the parent reads (the worker renders the notification the same way).
    for payload in PAYLOADS:
        for language in ("ru", "kk"):
            message = render(
                BenefitRejected(application_number=1, reason=payload), language, tz=settings.tz
            )
            text, entities = parse_html(message.text)
            assert payload in text and not entities


async def test_a_broadcast_text_with_markup_is_previewed_and_sent_as_text(
    bot_app: Any, settings: Any
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_application(city=city, choices=[(kindergarten, Language.ru)])
    await make_staff(820040)
    staff = Parent(bot_app, 820040, "ru")
    await staff.send("/broadcast")
    await staff.send(UNCLOSED)
    await staff.send(LINK)
    answered_safely(staff.seen)
    # The kindergarten filter's search takes typed text too.
    await staff.press("Детский сад")
    await staff.send(UNCLOSED)
    answered_safely(staff.seen)
    await staff.press("Назад")
    await staff.press("Продолжить")
    shows_as_typed(staff.seen, UNCLOSED)
    shows_as_typed(staff.seen, LINK)
    for language, payload in (("kk", UNCLOSED), ("ru", LINK)):
        message = render(Broadcast(text_kk=UNCLOSED, text_ru=LINK), language, tz=settings.tz)
        text, entities = parse_html(message.text)
        assert text == payload and not entities


async def test_markup_typed_before_start_gets_a_parseable_answer(bot_app: Any) -> None:
    app, session = bot_app
    parent = Chatter(app, session, 820050, "ru")
    for payload in PAYLOADS:
        answered_safely(await parent.send(payload))


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_staff_commands_with_markup_arguments_answer_politely(
    bot_app: Any, payload: str
) -> None:
    staff_id = 820060 + PAYLOADS.index(payload)
    await make_staff(staff_id)
    staff = Parent(bot_app, staff_id, "ru")
    for command in ("/enroll", "/revoke", "/protocol seats date=", "/protocol referrals status="):
        await staff.send(f"{command} {payload} {payload}")
        answered_safely(staff.seen)
    await staff.send(f"/release {payload}")
    assert "нет подходящего" in answered_safely(staff.seen)
