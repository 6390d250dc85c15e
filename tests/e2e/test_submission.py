"""End to end: parents submit an application through the sandbox emulator (real Bot over HTTP,
fake gov registry and SMS gateway, the callbacks web app), in Russian and in Kazakh, and meet
every refusal the wizard explains."""

from __future__ import annotations

import asyncio
import re

import pytest

from core.models import Application
from devtools.sandbox.gov.personas import AIGERIM, DANIYAR, ELENA
from devtools.stack import Stack
from tests.fixtures.e2e_submission import (
    KK,
    RU,
    add_by_name,
    expect_button,
    family_step,
    labelled,
    open_wizard,
    verify_phones,
)

pytestmark = pytest.mark.e2e

# --- scenarios ---------------------------------------------------------------------------------


async def test_a_russian_parent_submits_and_meets_every_refusal_on_the_way(stack: Stack) -> None:
    t = RU
    parent = stack.client(720001, language_code="ru", first_name="Айгерим")
    await parent.send("/start")
    await parent.expect("Здравствуйте")
    await open_wizard(parent, t["menu"], t["consents"], t["general"])
    await verify_phones(stack, parent, AIGERIM.phones)

    # Step 1: a sticker where the IIN is expected, a mistyped IIN, then the right one.
    await parent.expect(t["step1"])
    await parent.send(sticker=True)
    await parent.expect("ожидал текстовое сообщение")
    await parent.send("900412412346")
    await parent.expect("контрольная")
    await family_step(stack, parent, AIGERIM, t)

    # The wizard continues by itself once the registry answers: the children are listed.
    children = await parent.expect("Детей найдено: 3")
    await parent.press(labelled(children, "Нурасыл"))
    await parent.expect("исполнилось 6 лет")
    children = await expect_button(parent, "Алихан")  # the window again, below the refusal
    await parent.press(labelled(children, "Алихан"))

    # Step 2: a kindergarten found by name, its card, the queue "year г.р., русский".
    step2 = await parent.expect(t["step2"])
    chosen = await add_by_name(parent, step2, "Салтанат", "г.р., русский", t)
    assert "1. Ясли-сад «Салтанат»" in chosen.text

    # Step 3: an extraordinary benefit without its document is refused.
    await parent.press(labelled(chosen, t["next"]))
    await parent.expect(t["now"])
    await parent.press(t["now"])
    benefit = await parent.expect(t["step3"])
    assert "Дети военнослужащих" in benefit.text
    await parent.press(labelled(benefit, "1. Дети военнослужащих"))
    upload = await parent.expect("Загрузите документ")
    await parent.press(labelled(upload, "Назад"))
    benefit = await parent.expect(t["step3"])
    await parent.press(labelled(benefit, t["next"]))
    await parent.expect("нужен подтверждающий документ")
    benefit = await expect_button(parent, t["no_benefit"])
    await parent.press(labelled(benefit, t["no_benefit"]))
    benefit = await parent.expect("Выбрано: Отсутствует")
    await parent.press(labelled(benefit, t["next"]))
    contacts = await parent.expect(t["step4"])
    await parent.press(labelled(contacts, t["next"]))

    # The statement for review, as in the source documents, then Submit.
    review = await parent.expect("ЗАЯВЛЕНИЕ")
    assert "прошу поставить моего ребенка в общеобразовательную очередь" in review.text
    assert "Сейткали Алихан Ерланович" in review.text
    assert "Выдавать направление ребенку: Сразу, при появлении места" in review.text
    submit = review.button(t["submit"])
    await parent.press(t["submit"])
    done = await parent.expect(t["number"])
    number = int(re.search(r"№(\d+)", done.text).group(1))
    assert re.search(r"Место в очереди города \(\d{4} г\.р\.\): 1 из 1", done.text), done.text
    assert await Application.filter(number=number).count() == 1

    # A stale button: "Submit" of the finished wizard, pressed after it moved on.
    await parent.press(labelled(done, "Главное меню"))
    await parent.expect("Главное меню")
    await parent.press(callback_data=submit["callback_data"], message_id=review.message_id)
    await parent.expect("Эта кнопка устарела")
    assert await Application.all().count() == 1

    # The same child again: the consent given earlier still holds (no new SMS from 1414), the
    # child is marked with the existing number and refused at once, not after the whole form.
    await open_wizard(parent, t["menu"], t["consents"], t["general"])
    await parent.expect(t["step1"])
    await parent.send(AIGERIM.iin)
    children = await parent.expect("Ранее данное согласие ещё действует")
    assert "Детей найдено: 3" in children.text
    marked = labelled(children, "Алихан")
    assert marked.startswith("⛔") and f"уже в очереди: №{number}" in marked
    await parent.press(marked)
    await parent.expect(f"уже есть заявление в этой очереди: №{number}")
    assert await Application.all().count() == 1


async def test_a_kazakh_parent_submits_with_a_first_priority_benefit(stack: Stack) -> None:
    t = KK
    parent = stack.client(720002, language_code="kk", first_name="Данияр")
    await parent.send("/start")
    await parent.expect("Сәлеметсіз бе")
    await open_wizard(parent, t["menu"], t["consents"], t["general"])
    await verify_phones(stack, parent, DANIYAR.phones)
    await family_step(stack, parent, DANIYAR, t)

    children = await parent.expect("Табылған балалар: 4")
    await parent.press(labelled(children, "Айсултан"))

    # Four kindergartens: by name, nearest to a shared location, and from the list.
    step2 = await parent.expect(t["step2"])
    step2 = await add_by_name(parent, step2, "Салтанат", "ж.т., қазақ тілі", t)
    step2 = await add_by_name(parent, step2, "Балапан", "ж.т., орыс тілі", t)
    await parent.press(labelled(step2, "Жақын маңдағы"))
    await parent.expect("орналасқан жеріңізді")
    await parent.send(location={"latitude": 51.1401, "longitude": 71.4501})
    nearest = await parent.expect("ең жақын балабақшалар")
    first = nearest.buttons[0]
    assert "Қарлығаш" in first and " м" in first, nearest.buttons
    await parent.press(first)
    card = await parent.expect("Бос орындар")
    await parent.press(labelled(card, "ж.т., қазақ тілі"))
    step2 = await parent.expect(t["step2"])
    await parent.press(labelled(step2, "Тізіммен қарау"))
    listed = await parent.expect("Қаладағы барлық балабақшалар")
    await parent.press(labelled(listed, "Айгөлек"))
    card = await parent.expect("Бос орындар")
    await parent.press(labelled(card, "ж.т., қазақ тілі"))
    step2 = await parent.expect("4. ")

    # A fifth is refused.
    await parent.press(labelled(step2, t["by_name"]))
    await parent.expect("4 балабақшадан артық таңдауға болмайды")

    # The first-priority benefit found by the registry is already chosen.
    step2 = await expect_button(parent, t["next"])
    await parent.press(labelled(step2, t["next"]))
    await parent.expect(t["now"])
    await parent.press(t["now"])
    benefit = await parent.expect(t["step3"])
    assert "Таңдалды: Көпбалалы отбасылардың балалары" in benefit.text
    await parent.press(labelled(benefit, t["next"]))
    contacts = await parent.expect(t["step4"])
    await parent.press(labelled(contacts, t["next"]))
    review = await parent.expect("Көпбалалы отбасылардың балалары")
    assert "баламды жалпы кезекке қоюды сұраймын" in review.text
    await parent.press(t["submit"])
    done = await parent.expect(t["number"])
    number = int(re.search(r"№(\d+)", done.text).group(1))
    application = await Application.get(number=number)
    assert application.benefit_category == 8
    assert await application.choices.all().count() == 4


async def test_correctional_queue_with_documents_and_a_referral_date(stack: Stack) -> None:
    """Elena: a nephew she does not legally represent is refused; her daughter goes to the
    correctional queue with a PMPK conclusion, an extraordinary benefit document and a
    referral from a chosen date."""
    t = RU
    parent = stack.client(720003, language_code="ru", first_name="Елена")
    await parent.send("/start")
    await parent.expect("Здравствуйте")
    await open_wizard(parent, t["menu"], t["consents"], "Встать в коррекционную очередь")
    await verify_phones(stack, parent, ELENA.phones)
    await family_step(stack, parent, ELENA, t)

    children = await parent.expect("Детей найдено: 2")
    await parent.press(labelled(children, "Матвей"))
    await parent.expect("не являетесь законным представителем")
    children = await expect_button(parent, "София")
    await parent.press(labelled(children, "София"))
    step2 = await parent.expect(t["step2"])
    step2 = await add_by_name(parent, step2, "Еркемай", "г.р., русский", t)

    # Referral from a date chosen in the calendar (next month, the 15th).
    await parent.press(labelled(step2, t["next"]))
    referral = await expect_button(parent, "С определенной даты")
    await parent.press(labelled(referral, "С определенной даты"))
    calendar = await expect_button(parent, ">>")
    await parent.press(labelled(calendar, ">>"))
    calendar = await expect_button(parent, "15")
    await parent.press("15")

    # Step 3: benefit 3 with its document; a sticker instead of a file is refused.
    benefit = await parent.expect(t["step3"])
    await parent.press(labelled(benefit, "3. Дети сотрудников правоохранительных"))
    await parent.expect("Загрузите документ")
    await parent.send(sticker=True)
    await parent.expect("Отправьте фото или PDF-файл")
    await parent.send_document(b"%PDF-1.4 certificate", "certificate.pdf")
    benefit = await parent.expect("документ загружен ✅")
    await parent.press(labelled(benefit, t["next"]))

    # The correctional queue needs the PMPK conclusion.
    pmpk = await parent.expect("ПМПК")
    await parent.press(labelled(pmpk, t["next"]))
    await parent.expect("консультации (ПМПК)")
    await parent.send(photo=True)
    pmpk = await parent.expect("Документ загружен")
    await parent.press(labelled(pmpk, t["next"]))
    contacts = await parent.expect(t["step4"])
    await parent.press(labelled(contacts, "SMS"))
    contacts = await expect_button(parent, "🔘 SMS")
    await parent.press(labelled(contacts, t["next"]))

    review = await parent.expect(t["statement"])
    assert "в коррекционную очередь" in review.text
    assert "Выдавать направление ребенку: С 15 " in review.text
    assert "Заключение ПМПК: приложено" in review.text
    assert "Уведомления: SMS" in review.text
    await parent.press(t["submit"])
    done = await parent.expect(t["number"])
    number = int(re.search(r"№(\d+)", done.text).group(1))
    application = await Application.get(number=number)
    assert application.queue_type == "correctional"
    assert application.benefit_category == 3 and application.benefit_status == "pending"
    assert application.pmpk_document_id is not None
    assert application.referral_from is not None and application.referral_from.day == 15
    # The SMS channel chosen at step 4 carries the very first notice (and nothing in Telegram).
    registered = f"№{number}"
    for _ in range(200):
        inbox = [m["text"] for m in await stack.sms_inbox(ELENA.phones[0])]
        if any(registered in text for text in inbox):
            break
        await asyncio.sleep(0.1)
    assert any(text.startswith(f"Indigo: заявление №{number} зарегистр") for text in inbox), inbox
    assert f"Ваше заявление №{number} зарегистрировано." not in [
        m.text for m in await parent.messages()
    ]
