"""No lost work and early, honest refusals in the application wizard (issue 14, items 1 and 5),
fed to the production Dispatcher: a menu tap mid-wizard asks first, the answers are kept as a
draft that "Join the queue" and /start offer back, Cancel asks first, the 1414 consent is not
asked twice, a refused consent can be asked again, and a child already queued is marked in the
child list with the number and refused there."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.applications import drafts
from core.models import Applicant, Child, GovRequest
from core.registry import family_requests
from tests.bot.test_submission_dialog import (
    PARENT_IIN,
    FakeGov,
    _iin,
    parent_with_phones,
    use_fake_gov,
)
from tests.fixtures.bot import Parent, inline_buttons, reply_keyboard, texts
from tests.fixtures.queue import make_application, make_city

RU = {
    "menu": "Встать в очередь",
    "consents": ("уведомлений", "оферты"),
    "general": "общеобразовательную",
    "check": "Проверить",
    "step2": "Шаг 2 из 4",
    "cabinet": "Личный кабинет",
    "check_queue": "Проверить очередь",
    "leave": "Выйти из заявления",
    "stay": "Остаться в заявлении",
    "continue": "Продолжить с места остановки",
    "again": "Начать заново",
    "cancel": "Отмена",
}
KK = {
    "menu": "Кезекке тұру",
    "consents": ("байланыс деректерімді", "оферта"),
    "general": "Жалпы білім беретін",
    "check": "Тексеру",
    "step2": "2-қадам, барлығы 4",
    "cabinet": "Жеке кабинет",
    "check_queue": "Кезекті тексеру",
    "leave": "Өтініштен шығу",
    "stay": "Өтінішті жалғастыру",
    "continue": "Тоқтаған жерден жалғастыру",
    "again": "Қайта бастау",
    "cancel": "Бас тарту",
}

YOUNG = _iin(date(2023, 3, 1))


def family(request_id: str, consent: bool = True) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "parent_iin": PARENT_IIN,
        "consent": consent,
        "children": [
            {
                "iin": YOUNG,
                "last_name": "Сейткали",
                "first_name": "Алихан",
                "middle_name": "",
                "birth_date": "2023-03-01",
                "sex": "male",
                "legal_representative": True,
            }
        ],
        "benefits": [],
    }


async def open_wizard(parent: Parent, t: dict[str, str]) -> str:
    await parent.send(t["menu"])
    await parent.press(t["consents"][0])
    await parent.press(t["consents"][1])
    return await parent.press(t["general"])


async def to_children(parent: Parent, gov: FakeGov, t: dict[str, str]) -> str:
    """Consents, the parent's IIN, the 1414 consent given, "Check": the child list."""
    await open_wizard(parent, t)
    await parent.send(PARENT_IIN)
    await family_requests.complete(family(f"req-{len(gov.requests)}"))
    return await parent.press(t["check"])


async def test_a_menu_tap_mid_wizard_asks_and_the_answers_come_back_ru(bot_app: Any) -> None:
    t = RU
    app, _ = bot_app
    gov = use_fake_gov(app)
    await parent_with_phones(5101, "ru")
    parent = Parent(bot_app, 5101, "ru")
    await to_children(parent, gov, t)
    step2 = await parent.press("Алихан")
    assert t["step2"] in step2

    # A menu tap asks first; "stay" shows the wizard again where it was.
    asked = await parent.send(t["cabinet"])
    assert "Выйти из него? Ваши ответы сохранятся на 7 дн." in asked
    assert await parent.press(t["stay"]) and t["step2"] in texts(parent.seen)[-1]

    # "Leave" does what the tap asked for (here: the check) and keeps the answers.
    await parent.send(t["check_queue"])
    stay_again = dict(inline_buttons(parent.seen))["⬅️ " + t["stay"]]
    left = await parent.press(t["leave"])
    assert "Ваши ответы сохранены" in left and "ИИН ребенка или родителя" in left
    # "Stay" of that question pressed after leaving: the draft is offered, nothing is lost.
    late = texts(await parent.chat.press(stay_again))
    assert any("незавершённое заявление" in text for text in late), late

    # "Join the queue" offers the draft back: continue where the parent stopped.
    offered = await parent.send(t["menu"])
    assert "незавершённое заявление" in offered and "Ребенок: Сейткали Алихан" in offered
    resumed = await parent.press(t["continue"])
    assert t["step2"] in resumed and "Сейткали Алихан" in resumed
    assert gov.requests == [PARENT_IIN]  # no new SMS from 1414


async def test_a_menu_tap_mid_wizard_asks_and_the_answers_come_back_kk(bot_app: Any) -> None:
    t = KK
    app, _ = bot_app
    gov = use_fake_gov(app)
    await parent_with_phones(5102, "kk")
    parent = Parent(bot_app, 5102, "kk")
    await to_children(parent, gov, t)
    await parent.press("Алихан")

    asked = await parent.send(t["check_queue"])
    assert "Жауаптарыңыз 7 күн сақталады" in asked
    await parent.press(t["leave"])
    applicant = await Applicant.get(telegram_user_id=5102)
    ttl = await app.redis.ttl(drafts.draft_key(applicant.id))
    assert 7 * 24 * 3600 - 60 < ttl <= 7 * 24 * 3600  # kept a week, then forgotten by Redis
    offered = await parent.send(t["menu"])
    assert "аяқталмаған өтініш" in offered
    assert t["step2"] in await parent.press(t["continue"])

    # "Join the queue" tapped again inside the wizard offers the same choice, not a reset.
    offered = await parent.send(t["menu"])
    assert "аяқталмаған өтініш" in offered and "Бала: Сейткали Алихан" in offered
    assert t["step2"] in await parent.press(t["continue"])


async def test_start_mid_wizard_keeps_the_answers_and_offers_them_back(bot_app: Any) -> None:
    app, _ = bot_app
    gov = use_fake_gov(app)
    await parent_with_phones(5103, "ru")
    parent = Parent(bot_app, 5103, "ru")
    await to_children(parent, gov, RU)
    await parent.press("Алихан")

    greeted = await parent.send("/start")
    assert "Здравствуйте" in greeted and "незавершённое заявление" in greeted
    assert reply_keyboard(parent.seen) is not None  # the main menu is there too
    assert RU["step2"] in await parent.press(RU["continue"])


async def test_starting_again_does_not_ask_for_the_1414_consent_twice(bot_app: Any) -> None:
    t = RU
    app, _ = bot_app
    gov = use_fake_gov(app)
    applicant = await parent_with_phones(5104, "ru")
    parent = Parent(bot_app, 5104, "ru")
    await to_children(parent, gov, t)
    await parent.press("Алихан")
    await parent.send("/start")

    start = await parent.press(t["again"])
    assert "⬜" in " ".join(parent.buttons()), start  # the first window, boxes unticked
    assert await drafts.load(app.redis, applicant.id) is None
    await parent.press(t["consents"][0])
    await parent.press(t["consents"][1])
    await parent.press(t["general"])
    shown = await parent.send(PARENT_IIN)
    assert "Ранее данное согласие ещё действует" in shown and "Детей найдено: 1" in shown
    assert gov.requests == [PARENT_IIN]
    assert await GovRequest.filter(applicant_id=applicant.id).count() == 1


async def test_cancel_asks_first_and_yes_throws_the_answers_away_kk(bot_app: Any) -> None:
    t = KK
    app, _ = bot_app
    gov = use_fake_gov(app)
    applicant = await parent_with_phones(5105, "kk")
    parent = Parent(bot_app, 5105, "kk")
    await to_children(parent, gov, t)
    await parent.press("Алихан")

    asked = await parent.press(t["cancel"])
    assert "Өтінішті болдырмайсыз ба?" in asked
    assert t["step2"] in await parent.press("Жоқ, өтінішке оралу")

    await parent.press(t["cancel"])
    cancelled = await parent.press("Иә, өтінішті болдырмау")
    assert "Өтініш берілмеді" in cancelled
    assert await drafts.load(app.redis, applicant.id) is None
    fresh = await parent.send(t["menu"])
    assert "аяқталмаған өтініш" not in fresh and "⬜" in " ".join(parent.buttons())


async def test_cancel_asks_first_ru(bot_app: Any) -> None:
    app, _ = bot_app
    gov = use_fake_gov(app)
    await parent_with_phones(5106, "ru")
    parent = Parent(bot_app, 5106, "ru")
    await to_children(parent, gov, RU)
    asked = await parent.press(RU["cancel"])
    assert "Отменить заявление? Введённые ответы будут удалены" in asked
    assert "Заявление не подано" in await parent.press("Да, отменить заявление")


async def test_a_refused_consent_can_be_asked_again_ru_and_kk(bot_app: Any) -> None:
    app, _ = bot_app
    gov = use_fake_gov(app)
    for user_id, language, t, ask in (
        (5107, "ru", RU, "Запросить согласие снова"),
        (5108, "kk", KK, "Келісімді қайта сұрау"),
    ):
        await parent_with_phones(user_id, language)
        parent = Parent(bot_app, user_id, language)
        await open_wizard(parent, t)
        await parent.send(PARENT_IIN)
        await family_requests.complete(family(f"req-{len(gov.requests)}", consent=False))
        refused = await parent.press(t["check"])
        assert "❌" in refused, refused
        before = len(gov.requests)
        waiting = await parent.press(ask)
        assert len(gov.requests) == before + 1 and "1414" in waiting
        # The refused text says "send the IIN again": that works too.
        await family_requests.complete(family(f"req-{len(gov.requests)}", consent=False))
        await parent.press(t["check"])
        await parent.send(PARENT_IIN)
        assert len(gov.requests) == before + 2


async def test_a_child_already_queued_is_marked_with_its_number_and_refused_at_once(
    bot_app: Any,
) -> None:
    app, _ = bot_app
    gov = use_fake_gov(app)
    for user_id, language, t, marked, refusal in (
        (5109, "ru", RU, "уже в очереди: №1290555", "уже есть заявление в этой очереди"),
        (5110, "kk", KK, "кезекте тұр: №1290555", "осы кезекте өтініші"),
    ):
        applicant = await parent_with_phones(user_id, language)
        parent = Parent(bot_app, user_id, language)
        await open_wizard(parent, t)
        await parent.send(PARENT_IIN)
        await family_requests.complete(family(f"req-{len(gov.requests)}"))
        child = await Child.get(person__iin=YOUNG)
        if await child.applications.all().count() == 0:
            await make_application(
                applicant=applicant, child=child, city=await make_city(), number=1290555
            )
        listed = await parent.press(t["check"])
        label = next(b for b in parent.buttons() if "Алихан" in b)
        assert label.startswith("⛔") and marked in label, listed
        refused = await parent.press("Алихан")
        assert refusal in refused and "1290555" in refused
        assert t["step2"] not in refused
