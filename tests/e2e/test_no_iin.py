"""End to end: a child without an IIN (not a citizen, not in the registry's family list) is put
in the queue with a birth certificate scan, the parent declaring legal representation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from core.models import Application, Document, DocumentKind
from core.platform import clock
from core.platform.settings import Settings
from devtools.sandbox.gov.personas import ASKHAT, DANIYAR
from devtools.stack import Stack
from tests.fixtures.e2e_submission import (
    KK,
    RU,
    add_by_name,
    expect_button,
    family_step,
    from_referral_to_review,
    labelled,
    open_wizard,
    verify_phones,
)

pytestmark = pytest.mark.e2e


def years_ago(settings: Settings, years: int, plus_days: int = 0) -> date:
    """`years` full years before today in the service's time zone (+ `plus_days`)."""
    today = clock.now().astimezone(settings.tz).date()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return born + timedelta(days=plus_days)


def typed(day: date) -> str:
    return day.strftime("%d.%m.%Y")


async def test_a_russian_parent_queues_a_child_without_iin_with_a_certificate_photo(
    stack: Stack,
    settings: Settings,
) -> None:
    t = RU
    parent = stack.client(720101, language_code="ru", first_name="Асхат")
    await parent.send("/start")
    await parent.expect("Здравствуйте")
    await open_wizard(parent, t["menu"], t["consents"], t["general"])
    await verify_phones(stack, parent, ASKHAT.phones)
    await family_step(stack, parent, ASKHAT, t)

    children = await parent.expect("Детей найдено: 1")
    await parent.press(labelled(children, "Ребенка нет в списке (нет ИИН)"))
    await parent.expect("фамилию")
    await parent.send("Петрова")
    await parent.expect("имя ребенка")
    await parent.send("Анна")
    middle = await parent.expect("отчество")
    await parent.press(labelled(middle, "Пропустить"))
    await parent.expect("дату рождения")
    born = years_ago(settings, 3)
    await parent.send(typed(born))
    sex = await parent.expect("Пол ребенка")
    await parent.press(labelled(sex, "Девочка"))
    await parent.expect("свидетельство о рождении")
    await parent.send(photo=True)

    # The registry cannot confirm representation: the parent's declaration is required.
    confirm = await parent.expect("Свидетельство о рождении: загружено ✅")
    assert "Петрова Анна" in confirm.text and "Пол: Девочка" in confirm.text
    await parent.press(labelled(confirm, "Далее"))
    await parent.expect("Отметьте, что вы являетесь законным представителем")
    confirm = await expect_button(parent, "⬜ Я являюсь законным представителем ребенка")
    await parent.press(labelled(confirm, "⬜ Я являюсь законным представителем"))
    confirm = await expect_button(parent, "☑️ Я являюсь законным представителем ребенка")
    await parent.press(labelled(confirm, "Далее"))

    step2 = await parent.expect(t["step2"])
    assert "Петрова Анна" in step2.text
    step2 = await add_by_name(parent, step2, "Салтанат", "г.р., русский", t)
    review = await from_referral_to_review(parent, t, step2)
    assert "ИИН ребенка: нет (свидетельство о рождении приложено)" in review.text
    assert "ФИО ребенка: Петрова Анна" in review.text
    assert f"Дата рождения: {typed(born)}" in review.text
    await parent.press(t["submit"])
    done = await parent.expect(t["number"])
    number = int(re.search(r"№(\d+)", done.text).group(1))

    application = await Application.get(number=number).prefetch_related(
        "child__person", "child__birth_certificate"
    )
    person = application.child.person
    assert person.iin is None and person.last_name == "Петрова" and person.sex == "female"
    assert person.birth_date == born
    certificate = application.child.birth_certificate
    assert certificate is not None and certificate.kind == DocumentKind.birth_certificate


async def test_a_kazakh_parent_is_refused_for_a_six_year_old_and_for_a_sticker(
    stack: Stack,
    settings: Settings,
) -> None:
    t = KK
    parent = stack.client(720102, language_code="kk", first_name="Данияр")
    await parent.send("/start")
    await parent.expect("Сәлеметсіз бе")
    await open_wizard(parent, t["menu"], t["consents"], t["general"])
    await verify_phones(stack, parent, DANIYAR.phones)
    await family_step(stack, parent, DANIYAR, t)

    children = await parent.expect("Табылған балалар: 4")
    await parent.press(labelled(children, "Бала тізімде жоқ (ЖСН жоқ)"))
    await parent.expect("тегін")
    await parent.send("Смағұлов")
    await parent.expect("атын жіберіңіз")
    await parent.send("Нұрлан")
    await parent.expect("әкесінің атын")
    await parent.send("Ерланұлы")
    await parent.expect("туған күнін")

    # Six today: refused with the registry children's text; a mistyped date is explained.
    await parent.send(typed(years_ago(settings, 6)))
    await parent.expect("Балаға 6 жас толған")
    await parent.send("31.02.2022")
    await parent.expect("КК.АА.ЖЖЖЖ түрінде")
    await parent.send(typed(years_ago(settings, 6, plus_days=1)))
    sex = await parent.expect("Баланың жынысы")
    await parent.press(labelled(sex, "Ұл бала"))

    # A sticker instead of the birth certificate.
    await parent.expect("туу туралы куәлігін")
    await parent.send(sticker=True)
    await parent.expect("Құжаттың фотосын немесе PDF файлын жіберіңіз")
    await parent.send_document(b"%PDF-1.4 birth certificate", "certificate.pdf")
    confirm = await parent.expect("Туу туралы куәлік: жүктелді ✅")
    await parent.press(labelled(confirm, "⬜ Мен баланың заңды өкілімін"))
    confirm = await expect_button(parent, "☑️ Мен баланың заңды өкілімін")
    await parent.press(labelled(confirm, t["next"]))
    step2 = await parent.expect(t["step2"])
    assert "Смағұлов Нұрлан Ерланұлы" in step2.text
    assert await Application.all().count() == 0
    assert await Document.filter(kind=DocumentKind.birth_certificate).count() == 1
