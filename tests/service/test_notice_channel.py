"""The channel a parent chooses at submission (Telegram or SMS) carries the very first notice:
the "registered" message and a seat offered at once, by the short SMS text."""

from __future__ import annotations

from datetime import date

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.notifications.render import render
from core.applications.submission import SubmissionInput, submit
from core.models import Applicant, Channel, Language, Notification, Phone, QueueType
from core.notifications.kinds import load
from core.platform.settings import Settings
from core.seats.releases import release_seats
from tests.fixtures import queue as fq
from tests.fixtures.seats import cohort_year, make_group
from tests.fixtures.worker import SandboxTelegram
from worker.sender import Sender


class FakeSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, phone: str, text: str, client_id: str) -> str:
        self.sent.append((phone, text))
        return f"sms-{len(self.sent)}"


async def _deliver(settings: Settings, url: str, sms: FakeSms) -> None:
    bot = Bot(
        token=settings.bot_token or "",
        session=AiohttpSession(api=TelegramAPIServer.from_base(url)),
    )
    try:
        await Sender(bot, sms, settings).run_until_empty()
    finally:
        await bot.session.close()


async def _submit(settings: Settings, tg: int, city_id: int, kg_id: int, channel: str) -> int:
    parent = await fq.make_parent(telegram_user_id=tg)
    await Applicant.filter(id=parent.id).update(language=Language.kk)  # a Kazakh parent
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
    application = await submit(data, settings=settings, actor=f"applicant:{tg}")
    return application.number


async def test_a_parent_who_chose_sms_gets_the_first_notices_by_sms_only(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    city = await fq.make_city()
    kindergarten = await fq.make_kindergarten(city, 1, languages="ru")
    group = await make_group(kindergarten, birth_year=cohort_year())
    await release_seats(group.id, 2, actor="staff:1", settings=settings, window=None)

    by_sms = await _submit(settings, 8801, city.id, kindergarten.id, "sms")
    by_telegram = await _submit(settings, 8802, city.id, kindergarten.id, "telegram")

    sms_parent = await Applicant.get(telegram_user_id=8801)
    assert sms_parent.channel == Channel.sms  # the choice is kept for later notices too
    rows = await Notification.filter(applicant_id=sms_parent.id).order_by("id")
    assert [(row.kind, row.channel) for row in rows] == [
        ("application_registered", Channel.sms),
        ("seat_offered", Channel.sms),
    ]

    sms = FakeSms()
    await _deliver(settings, telegram_sandbox.url, sms)
    phone = (await Phone.filter(applicant_id=sms_parent.id).order_by("id").first()).number  # type: ignore[union-attr]
    # Kazakh, as chosen at step 4, short, and nothing about buttons.
    # (The sender spaces messages to one recipient: the seat offer may wait for a later round.)
    assert sms.sent[0] == (phone, f"Indigo: №{by_sms} өтініші тіркелді.")
    offer = render(load(rows[1].kind, rows[1].params), rows[1].language, tz=settings.tz).sms
    assert offer.startswith(f"Indigo: №{by_sms} өтінішіне орын бар.")
    assert all(sent == offer for _, sent in sms.sent[1:])
    assert 8801 not in telegram_sandbox.texts  # nothing went to Telegram
    assert f"№{by_telegram}" in telegram_sandbox.texts[8802][0]
