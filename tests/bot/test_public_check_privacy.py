"""The public check without login (security review #11, #13): the card shows the number,
status, place and benefit class but not the kindergartens or a correctional queue; look-ups are
limited per Telegram user; odd numbers are "not found", never "something went wrong"."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core.models import (
    Applicant,
    Application,
    Child,
    Kindergarten,
    Language,
    Person,
    QueueType,
    Stream,
)
from core.people.iin import make_iin
from tests.fixtures.bot import Chatter, texts
from tests.fixtures.seats import cohort_year, make_application, make_city

NOT_FOUND = "Заявление с таким номером не найдено."
BROKEN = ("что-то пошло не так", "бірдеңе дұрыс болмады")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def _correctional_application() -> Application:
    city = await make_city()
    kindergarten = await Kindergarten.create(
        city=city,
        name_ru="Ясли-сад №7 Алтынай",
        name_kk="№7 Алтынай бөбекжай-бақшасы",
        ownership="state",
        address_ru="ул. Абая, 7",
        address_kk="Абай к-сі, 7",
        latitude=51.13,
        longitude=71.43,
    )
    born = date(cohort_year(), 6, 1)
    iin = next(v for s in range(100, 200) if (v := make_iin(born, True, s)))
    parent_person = await Person.create(
        last_name="Ахметов", first_name="Ерлан", birth_date=date(1990, 5, 17)
    )
    parent = await Applicant.create(person=parent_person, language=Language.ru)
    child_person = await Person.create(
        iin=iin, last_name="Ахметов", first_name="Алихан", birth_date=born
    )
    child = await Child.create(person=child_person, representative=parent)
    return await make_application(
        city=city,
        applicant=parent,
        child=child,
        choices=[(kindergarten, Language.ru)],
        queue_type=QueueType.correctional,
        stream=Stream.first_priority,
    )


def _assert_public_card(shown: str, application: Application) -> None:
    assert f"Заявление №{application.number}" in shown or str(application.number) in shown
    assert "Статус: в очереди" in shown
    assert "Льгота: первоочередная" in shown
    assert f"Год рождения: {application.birth_year}" in shown
    assert "место 1 из 1" in shown
    # Not public: where the child will go, and a queue that discloses special needs.
    assert "Алтынай" not in shown and "Ясли-сад" not in shown
    assert "коррекц" not in shown.lower() and "Очередь:" not in shown
    assert "Ахметов" not in shown and "Алихан" not in shown  # names masked


async def test_the_deep_link_card_hides_kindergartens_and_the_correctional_queue(
    bot_app: Any,
) -> None:
    application = await _correctional_application()
    chat = Chatter(*bot_app, 401, "ru")
    shown = texts(await chat.send(f"/start {application.number}"))[-1]
    _assert_public_card(shown, application)


async def test_a_number_typed_in_the_check_shows_the_same_public_card(bot_app: Any) -> None:
    application = await _correctional_application()
    chat = Chatter(*bot_app, 402, "ru")
    await chat.send("Проверить очередь")
    _assert_public_card(texts(await chat.send(f"#{application.number}"))[-1], application)


@pytest.mark.parametrize(
    "payload",
    ["99999999999999999999999", "2147483648", "0", "-5", "12abc", "ARABIC"],
)
async def test_odd_numbers_in_the_deep_link_are_simply_not_found(
    bot_app: Any, payload: str
) -> None:
    application = await _correctional_application()
    if payload == "ARABIC":  # the real number in Arabic-Indic digits is not an ASCII number
        payload = str(application.number).translate(ARABIC_INDIC)
    chat = Chatter(*bot_app, 403, "ru")
    shown = texts(await chat.send(f"/start {payload}"))
    assert shown[-1] == NOT_FOUND
    assert not any(b in text for text in shown for b in BROKEN)


async def test_odd_numbers_typed_in_the_check_get_a_specific_answer(bot_app: Any) -> None:
    application = await _correctional_application()
    chat = Chatter(*bot_app, 404, "ru")
    await chat.send("Проверить очередь")
    digits_only = "ИИН состоит только из цифр. Отправьте 12 цифр."
    twelve = "ИИН состоит ровно из 12 цифр. Проверьте и отправьте ещё раз."
    for typed, expected in [
        (str(application.number).translate(ARABIC_INDIC), digits_only),
        ("99999999999999999999999", twelve),
        ("١٢٣٤٥٦٧٨٩٠١٢", digits_only),
        ("#9999999", NOT_FOUND),
        ("#" + str(application.number).translate(ARABIC_INDIC), NOT_FOUND),
        ("№99999999999999999999999", NOT_FOUND),
    ]:
        shown = texts(await chat.send(typed))
        assert shown[-1] == expected, typed
        assert not any(b in text for text in shown for b in BROKEN)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "ru",
            "Вы слишком часто проверяли очередь за короткое время. Попробуйте позже. "
            "Подождите: 30 мин.",
        ),
        (
            "kk",
            "Сіз қысқа уақытта кезекті тым көп тексердіңіз. Кейінірек қайталап көріңіз. "
            "Күту уақыты: 30 мин.",
        ),
    ],
)
async def test_look_ups_above_the_hourly_limit_get_a_polite_refusal(
    bot_app: Any, language: str, expected: str
) -> None:
    app, session = bot_app
    application = await _correctional_application()
    user_id = 405 if language == "ru" else 406
    chat = Chatter(app, session, user_id, language)
    await chat.send("/start")
    await app.redis.set(
        f"public:check:{user_id}", app.settings.public_check_per_hour - 1, ex=30 * 60 - 5
    )
    allowed = texts(await chat.send(f"/start {application.number}"))[-1]
    assert str(application.number) in allowed  # the last allowed look-up
    refused = texts(await chat.send(f"/start {application.number}"))[-1]
    assert refused == expected
    await chat.send("Проверить очередь" if language == "ru" else "Кезекті тексеру")
    by_iin = texts(await chat.send((await application.child.person).iin or ""))[-1]
    assert by_iin == expected
