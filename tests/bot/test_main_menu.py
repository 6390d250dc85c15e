"""The parent's first steps, fed to the production Dispatcher: greeting, language, menu, errors."""

from __future__ import annotations

from typing import Any

from bot.callbacks import parse_seat_offer, seat_offer_payload
from bot.handlers.start import set_commands
from core.models import Applicant
from core.people.iin import make_iin
from core.platform.redis import make_redis
from core.platform.settings import Settings
from indigo.app import build_app, close_app
from tests.fixtures.bot import Chatter, inline_buttons, reply_keyboard, texts
from tests.fixtures.queue import two_applications_in_one_cohort

RU_MENU = [
    ["Встать в очередь", "Проверить очередь"],
    ["Получить направление", "Личный кабинет"],
    ["Детские сады", "Помощь"],
]
KK_MENU = [
    ["Кезекке тұру", "Кезекті тексеру"],
    ["Жолдама алу", "Жеке кабинет"],
    ["Балабақшалар", "Көмек"],
]


def chatter(bot_app: Any, user_id: int, language: str | None) -> Chatter:
    app, session = bot_app
    return Chatter(app, session, user_id, language)


async def test_start_greets_a_russian_client_in_russian_with_the_menu(bot_app: Any) -> None:
    sent = await chatter(bot_app, 101, "ru").send("/start")
    assert "Здравствуйте" in texts(sent)[-1]
    assert reply_keyboard(sent) == RU_MENU


async def test_start_greets_a_kazakh_client_in_kazakh_with_the_menu(bot_app: Any) -> None:
    sent = await chatter(bot_app, 102, "kk").send("/start")
    assert "Сәлеметсіз бе" in texts(sent)[-1]
    assert reply_keyboard(sent) == KK_MENU


async def test_an_english_client_is_asked_for_the_language_and_the_choice_sticks(
    bot_app: Any,
) -> None:
    parent = chatter(bot_app, 103, "en")
    sent = await parent.send("/start")
    assert "Тілді таңдаңыз" in texts(sent)[-1] and "Выберите язык" in texts(sent)[-1]
    buttons = dict(inline_buttons(sent))
    assert set(buttons) == {"Қазақ тілі", "Русский язык"}

    sent = await parent.press(buttons["Қазақ тілі"])
    assert "Сәлеметсіз бе" in texts(sent)[-1]
    assert reply_keyboard(sent) == KK_MENU
    assert (await Applicant.get(telegram_user_id=103)).language == "kk"

    # Asked once: the next /start greets in the chosen language straight away.
    sent = await parent.send("/start")
    assert "Сәлеметсіз бе" in texts(sent)[-1]


async def test_lang_switches_the_language_and_it_is_stored(bot_app: Any) -> None:
    parent = chatter(bot_app, 104, "ru")
    await parent.send("/start")
    sent = await parent.send("/lang")
    buttons = dict(inline_buttons(sent))
    sent = await parent.press(buttons["Қазақ тілі"])
    assert reply_keyboard(sent) == KK_MENU
    assert (await Applicant.get(telegram_user_id=104)).language == "kk"
    # The client still says "ru", but the stored choice wins.
    sent = await parent.send("/help")
    assert "Ботты қалай пайдалану керек" in texts(sent)[-1]


async def test_menu_captions_of_either_language_work(bot_app: Any) -> None:
    parent = chatter(bot_app, 105, "kk")
    sent = await parent.send("Помощь")  # a Russian keyboard sent before a switch to Kazakh
    assert "Ботты қалай пайдалану керек" in texts(sent)[-1]


async def test_check_queue_names_the_failed_iin_rule_in_both_languages(bot_app: Any) -> None:
    ru = chatter(bot_app, 106, "ru")
    sent = await ru.send("Проверить очередь")
    assert "ИИН ребенка или родителя" in texts(sent)[-1]
    assert "12 цифр" in texts(await ru.send("12345"))[-1]
    assert "контрольная" in texts(await ru.send("900101300000"))[-1]
    assert "дата рождения" in texts(await ru.send("901301300001"))[-1].lower()

    kk = chatter(bot_app, 107, "kk")
    await kk.send("Кезекті тексеру")
    assert "бақылау" in texts(await kk.send("900101300000"))[-1]
    assert "7-цифры" in texts(await kk.send("900101900001"))[-1]
    assert "тек цифрлардан" in texts(await kk.send("90010130000A"))[-1]


async def test_check_queue_with_an_unknown_iin_says_nothing_was_found(bot_app: Any) -> None:

    parent = chatter(bot_app, 108, "ru")
    await parent.send("Проверить очередь")
    iin = make_iin(__import__("datetime").date(2021, 4, 5), True, 17) or make_iin(
        __import__("datetime").date(2021, 4, 5), True, 18
    )
    sent = await parent.send(iin)
    assert texts(sent)[-1] == "По этому ИИН заявлений не найдено."


async def test_a_stale_dialog_button_gets_a_polite_answer_and_the_menu(bot_app: Any) -> None:
    parent = chatter(bot_app, 109, "ru")
    await parent.send("/start")
    sent = await parent.press("gone-intent\x1dresend")
    assert "Эта кнопка устарела" in texts(sent)[-1]
    assert reply_keyboard(sent) == RU_MENU


async def test_an_unknown_old_button_outside_dialogs_is_called_outdated(bot_app: Any) -> None:
    parent = chatter(bot_app, 110, "kk")
    sent = await parent.press("something-old")
    assert "Бұл батырма ескірген" in texts(sent)[-1]


async def test_a_sticker_outside_a_flow_gets_a_hint(bot_app: Any) -> None:
    parent = chatter(bot_app, 111, "ru")
    sent = await parent.send_sticker()
    assert "Здесь это не подходит" in texts(sent)[-1]
    assert reply_keyboard(sent) == RU_MENU


async def test_cancel_returns_to_the_main_menu(bot_app: Any) -> None:
    parent = chatter(bot_app, 112, "ru")
    await parent.send("Проверить очередь")
    sent = await parent.send("/cancel")
    assert "главном меню" in texts(sent)[-1]
    # The IIN question is gone: a number is now just unknown text.
    sent = await parent.send("123")
    assert "не понял" in texts(sent)[-1]


async def test_commands_are_registered_per_language_at_start_up(bot_app: Any) -> None:
    app, session = bot_app

    await set_commands(app.bot, app.dispatcher.workflow_data["i18n"])
    calls = {
        request.language_code: {c.command: c.description for c in request.commands}
        for request in session.take()
        if request.__api_method__ == "setMyCommands"
    }
    assert calls["kk"]["lang"] == "Тілді ауыстыру"
    assert calls["ru"]["lang"] == "Сменить язык"
    assert calls[None]["cancel"] == "Отменить текущее действие"


async def test_check_queue_shows_number_status_time_and_places_with_masked_names(
    bot_app: Any,
) -> None:
    iin, number = await two_applications_in_one_cohort()
    parent = chatter(bot_app, 120, "ru")
    await parent.send("Проверить очередь")
    card = texts(await parent.send(iin))[-1]
    assert f"Заявление №{number}" in card
    assert "Статус: в очереди" in card
    assert "Дата подачи: 1 марта 2024, 14:00" in card  # 09:00 UTC; Almaty is UTC+5
    assert "Льгота: нет (общая очередь)" in card
    assert "место 2 из 2" in card
    assert "впереди по льготе: 1 (внеочередные 0, первоочередные 1)" in card
    assert "Айгерим" not in card and "Ахметова" not in card  # names are masked


async def test_check_queue_in_kazakh(bot_app: Any) -> None:
    iin, number = await two_applications_in_one_cohort()
    parent = chatter(bot_app, 121, "kk")
    await parent.send("Кезекті тексеру")
    card = texts(await parent.send(iin))[-1]
    assert f"№{number} өтініш" in card
    assert "Мәртебесі: кезекте" in card
    assert "2 ішінен 2-орын" in card
    assert "№7 бөбекжай-бақша" not in card  # the chosen kindergartens are not public


async def test_a_deep_link_with_an_application_number_shows_its_status(bot_app: Any) -> None:
    _, number = await two_applications_in_one_cohort()
    sent = await chatter(bot_app, 122, "ru").send(f"/start {number}")
    assert any(f"Заявление №{number}" in text for text in texts(sent))
    sent = await chatter(bot_app, 123, "ru").send("/start 999")
    assert "Заявление с таким номером не найдено." in texts(sent)


def test_a_seat_offer_payload_is_a_deep_link_string_that_parses_back() -> None:

    payload = seat_offer_payload(12, 34)
    assert payload == "ref_12_34"  # /start payloads allow only [A-Za-z0-9_-]
    assert parse_seat_offer(payload) == (12, 34)
    assert parse_seat_offer("1234") is None
    assert parse_seat_offer("ref_12_34_x") is None


async def test_the_start_up_hook_registers_the_commands(bot_app: Any) -> None:
    app, session = bot_app
    await app.dispatcher.emit_startup(bot=app.bot)
    languages = {
        request.language_code
        for request in session.take()
        if request.__api_method__ == "setMyCommands"
    }
    assert languages == {"kk", "ru", None}


async def test_a_sticker_where_the_iin_is_expected_asks_for_text(bot_app: Any) -> None:
    parent = chatter(bot_app, 130, "kk")
    await parent.send("Кезекті тексеру")
    sent = await parent.send_sticker()
    assert "ЖСН-ді мәтінмен жіберіңіз" in texts(sent)[-1]


async def test_the_bot_talks_to_a_configured_local_bot_api_server(settings: Any) -> None:

    local = settings.model_copy(update={"telegram_api_url": "http://127.0.0.1:8081"})
    app = await build_app(local, init_database=False)
    try:
        assert app.bot.session.api.base.startswith("http://127.0.0.1:8081/bot")
    finally:
        await close_app(app)


async def test_the_embedded_redis_default_runs_the_fsm_with_isolation() -> None:
    from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
    from aiogram.fsm.storage.redis import RedisStorage

    storage = RedisStorage(
        make_redis(Settings(redis_url=None, _env_file=None)),
        key_builder=DefaultKeyBuilder(with_destiny=True),
    )
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    async with storage.create_isolation().lock(key):  # a Lua-backed lock
        await storage.set_state(key, "CheckQueue:iin")
    assert await storage.get_state(key) == "CheckQueue:iin"
    await storage.close()


async def test_cancelling_the_phone_confirmation_from_the_cabinet_or_referral_is_calm(
    bot_app: Any,
) -> None:
    """«Отмена» on the phone screen opened from the cabinet gave «что-то пошло не так»
    (NoContextError): now the parent is told it is cancelled and is back in the menu."""
    for user_id, language, entry, cancel_caption, cancelled, menu in (
        (5201, "ru", "Личный кабинет", "Отмена", "Подтверждение телефона отменено.", RU_MENU),
        (5202, "ru", "Получить направление", "Отмена", "Подтверждение телефона отменено.", RU_MENU),
        (5203, "kk", "Жеке кабинет", "Бас тарту", "Телефонды растау тоқтатылды.", KK_MENU),
    ):
        await Applicant.create(telegram_user_id=user_id, chat_id=user_id, language=language)
        parent = chatter(bot_app, user_id, language)
        sent = await parent.send(entry)
        keyboard = reply_keyboard(sent) or []
        caption = next(b for row in keyboard for b in row if b.startswith(cancel_caption))
        sent = await parent.send(caption)
        assert texts(sent) == [cancelled], texts(sent)
        assert reply_keyboard(sent) == menu
