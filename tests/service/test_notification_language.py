"""The notification language a parent picks at step 4 of the submission is the language of the
notices about that application, whatever language they chat with the bot in; notices about
nothing of theirs in particular (a complaint) stay in the chat's language."""

from __future__ import annotations

from datetime import date

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.notifications.render import render
from core.applications.submission import SubmissionInput, submit
from core.complaints import filing
from core.models import Applicant, Language, Notification, Phone, QueueType
from core.notifications.kinds import load
from core.platform.settings import Settings
from core.seats.releases import release_seats
from tests.fixtures import queue as fq
from tests.fixtures.seats import cohort_year, make_group
from tests.fixtures.worker import SandboxTelegram
from tests.service.test_notice_channel import FakeSms
from worker.sender import Sender

RUSSIAN_CHAT_TG, RUSSIAN_CHAT_SMS = 8811, 8812


async def _submit(settings: Settings, tg: int, city_id: int, kg_id: int, channel: str) -> Applicant:
    """A parent who chats in Russian submits and picks Kazakh notifications at step 4."""
    parent = await fq.make_parent(telegram_user_id=tg)
    await Applicant.filter(id=parent.id).update(language=Language.ru)
    child = await fq.make_child(parent, date(cohort_year(), 6, 1))
    data = SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=city_id,
        queue_type=QueueType.general,
        choices=[(kg_id, Language.ru)],
        legal_representative=True,
        notification_language="kk",
        channel=channel,
    )
    await submit(data, settings=settings, actor=f"applicant:{tg}")
    return await Applicant.get(id=parent.id)


async def deliver(settings: Settings, url: str, sms: FakeSms) -> None:
    """Everything queued, at once: the spacing between two messages to one chat is not what
    these tests are about."""
    settings = settings.model_copy(update={"send_per_chat_interval": 0.0})
    bot = Bot(
        token=settings.bot_token or "",
        session=AiohttpSession(api=TelegramAPIServer.from_base(url)),
    )
    try:
        await Sender(bot, sms, settings).run_until_empty()
    finally:
        await bot.session.close()


def _read(row: Notification, language: str, settings: Settings) -> tuple[str, str]:
    message = render(load(row.kind, row.params), language, tz=settings.tz)
    return message.text, message.sms


async def test_a_russian_chatting_parent_who_chose_kazakh_notifications_reads_them_in_kazakh(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    city = await fq.make_city()
    kindergarten = await fq.make_kindergarten(city, 1, languages="ru")
    by_telegram = await _submit(settings, RUSSIAN_CHAT_TG, city.id, kindergarten.id, "telegram")
    by_sms = await _submit(settings, RUSSIAN_CHAT_SMS, city.id, kindergarten.id, "sms")
    sms = FakeSms()
    await deliver(settings, telegram_sandbox.url, sms)
    # The next notice about the application: a seat is free.
    group = await make_group(kindergarten, birth_year=cohort_year())
    await release_seats(group.id, 2, actor="staff:1", settings=settings, window=None)
    await deliver(settings, telegram_sandbox.url, sms)

    rows = await Notification.filter(applicant_id=by_telegram.id).order_by("id")
    assert [row.kind for row in rows] == ["application_registered", "seat_offered"]
    received = telegram_sandbox.texts[RUSSIAN_CHAT_TG]
    assert received == [_read(row, "kk", settings)[0] for row in rows]
    russian = [_read(row, "ru", settings)[0] for row in rows]
    assert all(text != ru for text, ru in zip(received, russian, strict=True))

    rows = await Notification.filter(applicant_id=by_sms.id).order_by("id")
    phone = await Phone.filter(applicant_id=by_sms.id).order_by("id").first()
    assert phone is not None
    texts = [text for to, text in sms.sent if to == phone.number]
    assert texts == [_read(row, "kk", settings)[1] for row in rows]
    assert texts[0].endswith("өтініші тіркелді.")


async def test_a_notice_about_no_application_stays_in_the_chat_language(
    db: None, settings: Settings
) -> None:
    city = await fq.make_city()
    kindergarten = await fq.make_kindergarten(city, 1, languages="ru")
    parent = await _submit(settings, RUSSIAN_CHAT_TG, city.id, kindergarten.id, "telegram")
    await filing.file_complaint(
        parent, "kindergarten", "Жалоба", settings, kindergarten_id=kindergarten.id
    )
    languages = dict(
        await Notification.filter(applicant_id=parent.id).values_list("kind", "language")
    )
    assert languages == {"application_registered": "kk", "complaint_registered": "ru"}
