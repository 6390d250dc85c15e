"""Staff commands through the production Dispatcher: refusals, scope, seat release pushes,
broadcasts with a live progress message, open-data figures and the audit actor."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram_dialog.utils import CB_SEP

from bot.i18n import make_i18n
from core.models import (
    Applicant,
    ApplicationStatus,
    AuditEntry,
    Broadcast,
    Language,
    Notification,
    NotificationStatus,
    SeatRelease,
    StaffRole,
)
from core.notifications import broadcasts
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats import releases
from core.views import stats
from indigo.cli import add_staff_cli
from tests.fixtures.bot import Chatter, inline_buttons, texts
from tests.fixtures.seats import (
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
    make_queue,
)
from tests.fixtures.staff_texts import fixed_part, shown
from tests.fixtures.worker import BotApiStub, make_staff
from webhooks.registers import add_register_routes
from worker.main import _update_progress
from worker.sender import Sender


class Staff:
    def __init__(self, bot_app: Any, user_id: int, language: str = "ru") -> None:
        app, session = bot_app
        self.chat = Chatter(app, session, user_id, language)
        self.seen: list[Any] = []

    async def send(self, text: str) -> str:
        self.seen = await self.chat.send(text)
        return "\n".join(texts(self.seen))

    async def press(self, caption: str) -> str:
        buttons = inline_buttons(self.seen)
        match = [data for label, data in buttons if caption in label]
        assert match, f"no button {caption!r} in {[label for label, _ in buttons]}"
        self.seen = await self.chat.press(match[0])
        return "\n".join(texts(self.seen))

    def labels(self) -> list[str]:
        return [label for label, _ in inline_buttons(self.seen)]

    def data_of(self, caption: str) -> str:
        """The callback data of the button showing `caption`."""
        return next(data for label, data in inline_buttons(self.seen) if caption in label)

    def widget(self, widget_id: str, item: object) -> str:
        """The callback data a dialog widget on this screen would send for `item`."""
        intent = next(data for _, data in inline_buttons(self.seen) if CB_SEP in data)
        return f"{intent.split(CB_SEP)[0]}{CB_SEP}{widget_id}:{item}"

    async def forge(self, data: str) -> str:
        """Press a callback the bot never offered; what was on screen stays there."""
        return "\n".join(texts(await self.chat.press(data)))


OFFERED_TO = (
    "Release {count} seat(s) in {kindergarten}, group: {group}?\n"
    "{addressees} application(s) first in the queue that can take a referral now "
    "({parents} parent(s)) are notified at once; only they may take these seats until "
    "{deadline}."
)


def _bot(url: str, token: str) -> Bot:
    return Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))


@pytest.mark.parametrize(
    ("language", "refusal"),
    [("ru", "только для сотрудников"), ("kk", "тек білім бөлімдері")],
)
async def test_a_parent_who_is_not_staff_is_refused_politely(
    bot_app: Any, language: str, refusal: str
) -> None:
    parent = Staff(bot_app, 4242, language)
    for command in ("/release", "/broadcast", "/broadcasts", "/enroll 123", "/benefits"):
        assert refusal in await parent.send(command), command
    assert not await SeatRelease.exists()


async def test_an_operator_acts_only_in_their_city(bot_app: Any, settings: Settings) -> None:
    astana = await make_city("astana")
    almaty = await make_city("almaty")
    home = await make_kindergarten(astana, 1)
    foreign = await make_kindergarten(almaty, 2)
    foreign_group = await make_group(foreign)
    operator = await make_staff(900, StaffRole.operator, city=astana)
    admin = await make_staff(901, StaffRole.kindergarten_admin, kindergarten=home, city=astana)

    with pytest.raises(DomainError) as refused:
        await staff_service.group_in_scope(operator, foreign_group.id)
    assert refused.value.reason == "out_of_scope"
    assert staff_service.can_access(admin, home) and not staff_service.can_access(admin, foreign)

    # The operator sees only their city's kindergartens ...
    staff = Staff(bot_app, 900)
    await staff.send("/release")
    labels = [label for label, _ in inline_buttons(staff.seen)]
    assert labels == [home.name_ru, "Отмена"]
    # ... and a forged button for another city's kindergarten is refused, nothing released.
    shown = await staff.forge(staff.widget("kg", foreign.id))
    assert "Эта кнопка устарела" in shown
    assert not await SeatRelease.exists()


async def test_a_seat_release_pushes_to_the_first_parents_in_queue_order(
    bot_app: Any, settings: Settings, bot_api: BotApiStub
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    queue = await make_queue(city, kindergarten, 5, Language.ru)
    operator = await make_staff(902, StaffRole.operator, city=city)

    staff = Staff(bot_app, 902)
    await staff.send("/release")
    await staff.press(kindergarten.name_ru)
    await staff.press(group.name)
    await staff.press("2")
    asked = await staff.press("По настройкам")
    assert "Средняя группа" in asked
    assert fixed_part(OFFERED_TO, "ru") in asked  # 2 applications can take a referral now
    done = await staff.press("Освободить")
    assert "Освобождено мест: 2. Уведомлено родителей: 2." in done

    bot = _bot(bot_api.url, settings.bot_token or "")
    try:
        await Sender(bot, None, settings).run_until_empty()
    finally:
        await bot.session.close()
    parents = [await Applicant.get(id=app.applicant_id) for app in queue]
    first_two = [p.telegram_user_id for p in parents[:2]]
    # The offers are written in distribution order; concurrent sending may reorder arrival.
    offered = await Notification.filter(kind="seat_offered").order_by("id")
    assert [n.applicant_id for n in offered] == [p.id for p in parents[:2]]
    assert sorted(bot_api.received) == sorted(first_two)
    assert not set(bot_api.received) & {p.telegram_user_id for p in parents[2:]}
    offer_text = bot_api.texts[first_two[0]][0]
    assert f"№{queue[0].number}" in offer_text and "освободилось место" in offer_text
    assert f"ref_{queue[0].id}_" in str(bot_api.markups[first_two[0]][0])

    entry = await AuditEntry.get(action="seats.released")
    assert entry.actor == f"staff:{operator.id}"


async def test_a_broadcast_shows_its_progress_in_one_message_and_can_be_paused(
    bot_app: Any, settings: Settings, bot_api: BotApiStub
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_queue(city, kindergarten, 3, Language.kk)
    superadmin = await make_staff(903)

    staff = Staff(bot_app, 903)
    assert "на казахском" in await staff.send("/broadcast")
    await staff.send("Ертең балабақшалар жабық")
    await staff.send("Завтра детские сады закрыты")
    preview = await staff.send("city=astana status=active")
    assert "Получателей: 3." in preview and "Ертең балабақшалар жабық" in preview
    started = await staff.press("Отправить")
    assert "Рассылка №" in started and "получателей 3" in started
    broadcast = await Broadcast.get()
    assert broadcast.progress_message_id is not None
    audit = await AuditEntry.get(action="broadcast.created")
    assert audit.actor == f"staff:{superadmin.id}"

    assert "приостановлена" in await staff.send("/broadcast stop")
    bot = _bot(bot_api.url, settings.bot_token or "")
    try:
        await Sender(bot, None, settings).run_until_empty()
        assert not bot_api.received  # paused: nothing goes out
        assert "продолжается" in await staff.send("/broadcast resume")
        await Sender(bot, None, settings).run_until_empty()
        await _update_progress(bot, await Broadcast.get(id=broadcast.id), {})
    finally:
        await bot.session.close()

    assert sorted(bot_api.received.values()) == [1, 1, 1]
    # Each parent reads it in their own language (these parents chose Russian).
    assert all(t == ["Завтра детские сады закрыты"] for t in bot_api.texts.values())
    (edit,) = bot_api.edits
    assert int(edit["message_id"]) == broadcast.progress_message_id
    assert "Отправлено: 3" in edit["text"] and "Осталось: 0" in edit["text"]
    assert (await Broadcast.get(id=broadcast.id)).status == "done"
    listing = await staff.send("/broadcasts")
    counts = "Sent {sent}, failed {failed}, blocked {blocked}, remaining {remaining} of {total}"
    assert f"{broadcast.id} · " in listing
    assert shown(counts, "ru", sent=3, failed=0, blocked=0, remaining=0, total=3) in listing


async def test_stats_show_the_open_data_figures(bot_app: Any, settings: Settings) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_kindergarten(city, 2)
    group = await make_group(kindergarten)
    await make_queue(city, kindergarten, 4)
    await releases.release_seats(group.id, 3, actor="staff:test", settings=settings)
    await make_staff(904)

    figures = await stats.open_data()
    assert (figures.kindergartens, figures.free_seats, figures.queued_applications) == (2, 3, 4)
    assert (figures.enrolled_5_days, figures.referrals_issued) == (0, 0)
    # Seats released are not children who left: no departure was recorded.
    assert figures.dismissed_5_days == 0

    shown = await Staff(bot_app, 904).send("/stats")
    assert "Дошкольных организаций: 2" in shown
    assert "Свободных мест: 3" in shown and "Очередь заявлений: 4" in shown


async def test_the_seat_protocol_lists_releases_from_the_audit_log(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten, language=Language.kk)
    await releases.release_seats(group.id, 2, actor="staff:test", settings=settings)
    await make_staff(905)
    shown = await Staff(bot_app, 905).send("/protocol seats")
    assert "Протокол освобождения мест" in shown and "всего найдено: 1" in shown
    assert kindergarten.name_ru in shown and "освободилось мест: 2" in shown


async def test_pending_notifications_survive_a_paused_broadcast(db: None) -> None:
    """A paused broadcast's rows stay pending; other notifications are not held up."""
    staff = await make_staff(906)
    await Applicant.create(telegram_user_id=1, chat_id=1)
    broadcast = await broadcasts.create_broadcast(staff, "Сәлем", "Привет", {})
    await broadcasts.pause(staff, broadcast.id)
    progress = await broadcasts.progress(broadcast.id)
    assert (progress.status, progress.remaining) == ("paused", 1)
    assert await Notification.filter(status=NotificationStatus.pending).count() == 1


async def test_enroll_and_revoke_by_referral_number_are_audited_and_published(
    bot_app: Any, settings: Settings
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    first, second = await make_queue(city, kindergarten, 2)
    await releases.release_seats(group.id, 2, actor="staff:test", settings=settings)
    one = await take_seat(first.id, group.id, actor="parent", settings=settings)
    two = await take_seat(second.id, group.id, actor="parent", settings=settings)
    admin = await make_staff(907, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 907)

    await staff.send(f"/enroll {one.number}")
    enrolled = await staff.press("Подтвердить")
    done = "Referral #{number}: the child is enrolled; the parent is notified."
    assert make_i18n().gettext(done, locale="ru").format(number=one.number) in enrolled
    assert "Формат" in await staff.send("/enroll")
    await staff.send(f"/revoke {two.number} документы не принесли")
    revoked = "Referral #{number} is revoked; its seat is released again. The parent is notified."
    assert make_i18n().gettext(revoked, locale="ru").format(number=two.number) in (
        await staff.press("Подтвердить")
    )
    actors = await AuditEntry.filter(action__in=["referral.enrolled", "referral.revoked"])
    assert sorted(e.action for e in actors) == ["referral.enrolled", "referral.revoked"]
    assert {e.actor for e in actors} == {f"staff:{admin.id}"}

    shown = await staff.send("/protocol referrals")
    assert f"№{one.number}" in shown and "зачислен" in shown and "отозвано" in shown
    assert "Ахметова" not in shown and "А***А А***" in shown  # masked child names

    web_app = web.Application()
    add_register_routes(web_app, settings)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get("/protocols/referrals", params={"status": "enrolled"})
        body = await response.json()
        assert response.status == 200 and body["total"] == 1
        (item,) = body["items"]
        assert item["number"] == one.number and item["child"].startswith("А***А")
        response = await client.get("/protocols/seats", params={"kindergarten": kindergarten.id})
        body = await response.json()
        # The first release and the re-release of the revoked referral's seat.
        assert body["total"] == 2 and {i["seats"] for i in body["items"]} == {2, 1}
        assert (await client.get("/protocols/seats", params={"date": "nope"})).status == 400


async def test_staff_are_added_from_the_command_line_and_bootstrapped(
    db: None, settings: Settings, capsys: Any
) -> None:
    import argparse

    city = await make_city()
    args = argparse.Namespace(
        telegram_user_id=555, role="operator", city="astana", kindergarten=None, name="Айгүл"
    )
    await add_staff_cli(args)
    assert "555 is operator" in capsys.readouterr().out
    member = await staff_service.staff_for(555)
    assert member is not None and member.city_id == city.id
    with pytest.raises(SystemExit):
        await add_staff_cli(
            argparse.Namespace(
                telegram_user_id=556, role="operator", city=None, kindergarten=None, name=""
            )
        )
    await staff_service.bootstrap_superadmins(
        settings.model_copy(update={"staff_bootstrap_ids": [1, 555]})
    )
    assert (await staff_service.staff_for(1)).role == StaffRole.superadmin
    assert (await staff_service.staff_for(555)).role == StaffRole.operator  # kept
    assert await AuditEntry.filter(action="staff.granted", actor="cli").count() == 1


# --- choosing a broadcast's audience with buttons ----------------------------------------------


async def _family(city: Any, kindergarten: Any, year: int, language: Language, **kw: Any) -> Any:
    parent = await make_parent(language)
    return await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        born=date(year, 6, 1),
        **kw,
    )


async def _compose(staff: Staff) -> str:
    await staff.send("/broadcast")
    await staff.send("Ертең балабақшалар жабық")
    return await staff.send("Завтра детские сады закрыты")


async def test_an_operator_narrows_the_audience_with_buttons_and_sees_the_live_count(
    bot_app: Any, settings: Settings
) -> None:
    astana, almaty = await make_city("astana"), await make_city("almaty")
    first, second = await make_kindergarten(astana, 1), await make_kindergarten(astana, 2)
    foreign = await make_kindergarten(almaty, 3)
    target = await _family(astana, first, 2021, Language.kk)
    await _family(astana, first, 2021, Language.ru)
    await _family(astana, first, 2022, Language.kk)
    await _family(astana, second, 2021, Language.kk)
    await _family(astana, first, 2021, Language.kk, status=ApplicationStatus.stop_listed)
    await _family(almaty, foreign, 2021, Language.kk)
    await make_staff(910, StaffRole.operator, city=astana)
    staff = Staff(bot_app, 910)

    screen = await _compose(staff)
    assert "Кому отправить?" in screen and "Получателей сейчас: <b>4</b>" in screen
    assert staff.labels()[:6] == [
        "Город: Астана",
        "Детский сад: все",
        "Год рождения: все",
        "Язык: все",
        "Очередь: все",
        "Статус: активные",
    ]
    # The city is the operator's own; another city's kindergarten cannot be forged in.
    assert "определяется вашей ролью" in await staff.forge(staff.data_of("Город"))

    # Kindergartens: the list of the operator's city, searchable by name or number.
    await staff.press("Детский сад")
    forged = staff.widget("value", foreign.id)
    assert "Эта кнопка устарела" in await staff.forge(forged)
    assert foreign.name_ru not in staff.labels()
    assert {first.name_ru, second.name_ru} <= set(staff.labels())
    await staff.send("№1")
    assert first.name_ru in staff.labels() and second.name_ru not in staff.labels()
    assert "Получателей сейчас: <b>3</b>" in await staff.press(first.name_ru)
    assert f"Детский сад: {first.name_ru}" in staff.labels()

    # Birth years: the ones present in this kindergarten's applications.
    await staff.press("Год рождения")
    assert staff.labels() == ["✓ все", "2022", "2021", "Назад"]
    assert "Получателей сейчас: <b>2</b>" in await staff.press("2021")

    await staff.press("Язык")
    assert "Получателей сейчас: <b>1</b>" in await staff.press("казахский")
    assert "Язык: казахский" in staff.labels()

    preview = await staff.press("Продолжить")
    assert "Получателей: 1." in preview and "Ертең балабақшалар жабық" in preview
    await staff.press("Отправить")
    broadcast = await Broadcast.get()
    assert broadcast.total == 1
    assert broadcast.audience == {
        "city": "astana",
        "kindergarten": first.id,
        "birth_year": 2021,
        "language": "kk",
        "status": "active",
    }
    (sent,) = await Notification.filter(broadcast_id=broadcast.id)
    assert sent.applicant_id == target.applicant_id


async def test_a_kindergarten_admin_cannot_pick_another_kindergarten(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    home, other = await make_kindergarten(city, 1), await make_kindergarten(city, 2)
    await _family(city, home, 2021, Language.kk)
    await _family(city, other, 2021, Language.kk)
    await _family(city, other, 2022, Language.ru)
    await make_staff(911, StaffRole.kindergarten_admin, kindergarten=home)
    staff = Staff(bot_app, 911)

    screen = await _compose(staff)
    assert "Получателей сейчас: <b>1</b>" in screen
    assert f"Детский сад: {home.name_ru}" in staff.labels()
    assert "определяется вашей ролью" in await staff.forge(staff.data_of("Детский сад"))
    # Typed, too.
    typed = texts(await staff.chat.send(f"kindergarten={other.id}"))
    assert "вне вашей зоны ответственности" in "\n".join(typed)
    # Birth years offered are only those of the admin's own kindergarten.
    await staff.press("Год рождения")
    assert staff.labels() == ["✓ все", "2021", "Назад"]
    forged = staff.widget("year", other.id)
    assert "Эта кнопка устарела" in await staff.forge(forged)
    await staff.press("Назад")
    assert "Получателей: 1." in await staff.press("Продолжить")
    await staff.press("Отправить")
    broadcast = await Broadcast.get()
    assert broadcast.total == 1 and broadcast.audience["kindergarten"] == home.id


async def test_kazakh_staff_choose_the_audience_in_kazakh(bot_app: Any, settings: Settings) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    await _family(city, kindergarten, 2021, Language.kk)
    await make_staff(912, StaffRole.operator, city=city)
    staff = Staff(bot_app, 912, "kk")

    screen = await _compose(staff)
    assert "Кімге жіберіледі?" in screen and "Қазір алушылар саны: <b>1</b>" in screen
    assert staff.labels() == [
        "Қала: Астана",
        "Балабақша: барлығы",
        "Туған жылы: барлығы",
        "Тіл: барлығы",
        "Кезек: барлығы",
        "Мәртебесі: белсенді",
        "Жалғастыру",
        "Бас тарту",
    ]
    await staff.press("Балабақша")
    assert kindergarten.name_kk in staff.labels()
    await staff.press("Артқа")
    await staff.press("Кезек")
    assert staff.labels() == ["✓ барлығы", "жалпы", "түзету", "Артқа"]
    await staff.press("түзету")
    assert "Кезек: түзету" in staff.labels()
    await staff.press("Мәртебесі")
    assert staff.labels() == ["барлығы", "✓ белсенді", "стоп-парақта", "Артқа"]
    # Nobody is in the correctional queue: the count says so and Continue refuses.
    assert "Қазір алушылар саны: <b>0</b>" in await staff.press("Артқа")
    assert "Бұл сүзгілерге ешкім сәйкес келмейді." in await staff.forge(staff.data_of("Жалғастыру"))
    assert not await Broadcast.exists()


async def test_a_superadmin_chooses_the_city_and_then_its_kindergartens(
    bot_app: Any, settings: Settings
) -> None:
    astana, almaty = await make_city("astana"), await make_city("almaty")
    home, foreign = await make_kindergarten(astana, 1), await make_kindergarten(almaty, 2)
    await _family(astana, home, 2021, Language.kk)
    await _family(almaty, foreign, 2020, Language.ru)
    await _family(almaty, foreign, 2021, Language.ru)
    await make_staff(913)
    staff = Staff(bot_app, 913)

    assert "Получателей сейчас: <b>3</b>" in await _compose(staff)
    await staff.press("Город")
    assert len(staff.labels()) == 4  # all, the two cities, back
    almaty_button = staff.widget("value", "almaty")
    assert almaty_button in [data for _, data in inline_buttons(staff.seen)]
    staff.seen = await staff.chat.press(almaty_button)
    assert "Получателей сейчас: <b>2</b>" in "\n".join(texts(staff.seen))
    await staff.press("Детский сад")
    assert staff.labels() == ["✓ все", foreign.name_ru, "Назад"]
    await staff.press("Назад")
    await staff.press("Год рождения")
    assert staff.labels() == ["✓ все", "2021", "2020", "Назад"]
    assert "Получателей сейчас: <b>1</b>" in await staff.press("2020")


async def test_a_parents_messages_never_cost_a_staff_look_up(
    bot_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int | None] = []
    look_up = staff_service.staff_for

    async def counting(telegram_user_id: int | None) -> Any:
        asked.append(telegram_user_id)
        return await look_up(telegram_user_id)

    monkeypatch.setattr(staff_service, "staff_for", counting)
    parent = Staff(bot_app, 7301)

    await parent.send("Проверить очередь")
    answer = await parent.send("881105344205")
    assert asked == []  # the menu and the typed IIN went by the staff router without a query
    assert answer  # and the parent was answered as before

    refused = await parent.send("/release")
    assert "только для сотрудников" in refused
    assert asked == [7301]
