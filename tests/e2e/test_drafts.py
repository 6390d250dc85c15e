"""End to end through the sandbox: a parent's work in the application wizard is not lost. A tap on
the main menu mid-wizard asks first; the answers are kept and "Join the queue" offers to continue
where the parent stopped, then the application is submitted; /start offers the draft too, and
Cancel asks first (issue 14, item 1)."""

from __future__ import annotations

import re

import pytest

from core.models import Application
from devtools.sandbox.gov.personas import AIGERIM, ASKHAT
from devtools.stack import Stack
from tests.fixtures.e2e_submission import (
    KK,
    RU,
    add_by_name,
    family_step,
    from_referral_to_review,
    labelled,
    open_wizard,
    verify_phones,
)

pytestmark = pytest.mark.e2e


async def test_a_menu_tap_mid_wizard_keeps_the_answers_and_the_parent_continues(
    stack: Stack,
) -> None:
    t = RU
    parent = stack.client(720301, language_code="ru", first_name="Айгерим")
    await parent.send("/start")
    await parent.expect("Здравствуйте")
    await open_wizard(parent, t["menu"], t["consents"], t["general"])
    await verify_phones(stack, parent, AIGERIM.phones)
    await family_step(stack, parent, AIGERIM, t)
    children = await parent.expect("Детей найдено: 3")
    await parent.press(labelled(children, "Алихан"))
    step2 = await add_by_name(
        parent, await parent.expect(t["step2"]), "Салтанат", "г.р., русский", t
    )

    # The main menu is still on screen: a tap asks first; "stay" brings the wizard back.
    await parent.press("Личный кабинет")
    asked = await parent.expect("Выйти из него?")
    await parent.press(labelled(asked, "Остаться в заявлении"))
    await parent.expect(t["step2"])

    # "Leave" does what was tapped and keeps the answers.
    await parent.press("Проверить очередь")
    asked = await parent.expect("Выйти из него?")
    await parent.press(labelled(asked, "Выйти из заявления"))
    await parent.expect("Ваши ответы сохранены")
    await parent.expect("ИИН ребенка или родителя")

    # "Join the queue" offers the draft back; the kindergarten chosen is still there.
    await parent.press(t["menu"])
    offered = await parent.expect("незавершённое заявление")
    assert "Ребенок: Сейткали Алихан" in offered.text
    await parent.press(labelled(offered, "Продолжить с места остановки"))
    step2 = await parent.expect(t["step2"])
    assert "1. Ясли-сад «Салтанат»" in step2.text

    await from_referral_to_review(parent, t, step2)
    await parent.press(t["submit"])
    done = await parent.expect(t["number"])
    number = int(re.search(r"№(\d+)", done.text).group(1))  # type: ignore[union-attr]
    assert await Application.filter(number=number).count() == 1

    # Submitted: nothing is offered back any more.
    await parent.press(labelled(done, "Главное меню"))
    await parent.expect("Главное меню")
    await parent.press(t["menu"])
    fresh = await parent.expect("Отметьте оба согласия")
    assert "незавершённое" not in fresh.text


async def test_start_mid_wizard_offers_the_draft_and_cancel_asks_first_kk(stack: Stack) -> None:
    t = KK
    parent = stack.client(720302, language_code="kk", first_name="Асхат")
    await parent.send("/start")
    await parent.expect("Сәлеметсіз бе")
    await open_wizard(parent, t["menu"], t["consents"], t["general"])
    await verify_phones(stack, parent, ASKHAT.phones)
    await family_step(stack, parent, ASKHAT, t)
    children = await parent.expect("Табылған балалар: 1")
    await parent.press(labelled(children, "Камила"))
    await parent.expect(t["step2"])

    # /start in the middle: the greeting, then "continue where you stopped / start again".
    await parent.send("/start")
    offered = await parent.expect("аяқталмаған өтініш")
    assert "Бала: Омарова Камила" in offered.text
    await parent.press(labelled(offered, "Тоқтаған жерден жалғастыру"))
    step2 = await parent.expect(t["step2"])

    # Cancel asks first; "yes" throws the answers away and nothing is offered back.
    await parent.press(labelled(step2, "Бас тарту"))
    asked = await parent.expect("Өтінішті болдырмайсыз ба?")
    await parent.press(labelled(asked, "Иә, өтінішті болдырмау"))
    await parent.expect("Өтініш берілмеді")
    await parent.press(t["menu"])
    fresh = await parent.expect("Екі белгіні қойып")
    assert "аяқталмаған" not in fresh.text
