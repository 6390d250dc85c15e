"""The outbox sender: Telegram's limits, blocked users, exactly-once delivery across a kill."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from redis.asyncio import Redis

from core.models import Applicant, Channel, Notification, NotificationStatus, Phone
from core.notifications import broadcasts, outbox
from core.notifications.kinds import Place, Restored, SeatOffered
from core.platform import clock
from core.platform.settings import Settings
from tests.fixtures.worker import SandboxTelegram, make_recipients, make_staff
from worker.sender import Sender, in_flight_limit

ROOT = Path(__file__).resolve().parents[2]


def _bot(url: str, token: str) -> Bot:
    return Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))


# How long a process test waits for the workers before calling it a failure. Only a failure ever
# waits this long: every wait ends as soon as the outcome is there, so a slow machine is slower
# but not red.
WAIT_BUDGET = 180.0


class FakeSms:
    def __init__(self) -> None:
        self.sent: dict[str, tuple[str, str]] = {}

    async def send(self, phone: str, text: str, client_id: str) -> str:
        self.sent[client_id] = (phone, text)
        return f"sms-{len(self.sent)}"


@pytest.mark.slow
async def test_a_broadcast_to_5000_parents_respects_the_limit_and_counts_blocked_users(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram, tmp_path: Path
) -> None:
    parents = await make_recipients(5000)
    blocked = {p.chat_id for p in parents[::100]}  # 50 parents blocked the bot
    telegram_sandbox.block(blocked)
    staff = await make_staff()
    broadcast = await broadcasts.create_broadcast(staff, "Сәлеметсіз бе", "Здравствуйте", {})
    assert broadcast.total == 5000

    # The worker runs as its own process (as in production), paced below the emulator's limit.
    began = time.monotonic()
    worker = await _start_worker(settings, telegram_sandbox.url, tmp_path / "worker.log", rate=280)
    try:
        await _wait_for(lambda: _settled(broadcast.id), WAIT_BUDGET, "the broadcast to finish")
    finally:
        worker.send_signal(signal.SIGTERM)
        await worker.wait()
    print(f"5000 notifications in {time.monotonic() - began:.1f} s")

    progress = await broadcasts.progress(broadcast.id)
    assert telegram_sandbox.too_many == 0
    assert (progress.sent, progress.blocked, progress.remaining) == (4950, 50, 0)
    received = telegram_sandbox.received
    assert set(received.values()) == {1}
    assert len(received) == 4950
    assert not blocked & set(received)
    assert await Applicant.filter(blocked_bot=True).count() == 50
    kazakh = parents[1].chat_id
    assert telegram_sandbox.texts[kazakh] == ["Сәлеметсіз бе"]


async def test_a_blocked_parent_gets_the_notification_by_sms_once(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    (parent,) = await make_recipients(1)
    # A confirmed number: a parent whose numbers are all unconfirmed signed out ("Выйти") and
    # gets everything by SMS from the start (tests/service/test_signed_out_notices.py).
    await Phone.create(applicant=parent, number="+77011234567", verified_at=clock.now())
    telegram_sandbox.block({parent.chat_id})
    await outbox.notify(parent, Restored(application_number=1292583), key="restored:1")
    sms = FakeSms()
    bot = _bot(telegram_sandbox.url, settings.bot_token or "")
    try:
        await Sender(bot, sms, settings).run_until_empty()
        # Later notifications go straight to SMS.
        parent = await Applicant.get(id=parent.id)
        await outbox.notify(parent, Restored(application_number=1292584), key="restored:2")
        await Sender(bot, sms, settings).run_until_empty()
    finally:
        await bot.session.close()
    assert sorted(sms.sent) == ["restored:1", "restored:2"]
    phone, text = sms.sent["restored:1"]
    assert phone == "+77011234567" and "№1292583" in text and "<" not in text
    second = await Notification.get(idempotency_key="restored:2")
    assert (second.channel, second.status) == (Channel.sms, NotificationStatus.sent)
    assert telegram_sandbox.forbidden == 1


async def test_a_seat_offer_carries_the_button_that_opens_the_referral_step(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    (parent,) = await make_recipients(1)
    offered = SeatOffered(
        release_id=7,
        application_id=42,
        application_number=1292583,
        place=Place(
            kindergarten_ru="Детский сад «Ақбата»",
            kindergarten_kk="«Ақбата» балабақшасы",
            group="Күншуақ",
            language="kk",
            group_birth_year=2022,
            group_kind="general",
        ),
        deadline=datetime.fromisoformat("2026-03-02T04:00:00+00:00"),
    )
    await outbox.notify(parent, offered, key="seat_offered:7:42")
    bot = _bot(telegram_sandbox.url, settings.bot_token or "")
    try:
        await Sender(bot, None, settings).run_until_empty()
    finally:
        await bot.session.close()
    (text,) = telegram_sandbox.texts[parent.chat_id]
    assert "№1292583" in text and "Ақбата" in text
    assert "2 марта 2026, 09:00" in text  # the deadline in Almaty time, to the minute
    (markup,) = telegram_sandbox.markups[parent.chat_id]
    assert "ref_42_7" in str(markup)


async def _wait_for(predicate, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _settled(broadcast_id: int) -> bool:
    return not await Notification.filter(
        broadcast_id=broadcast_id,
        status__in=[
            NotificationStatus.pending,
            NotificationStatus.claimed,
            NotificationStatus.sending,
        ],
    ).exists()


async def _start_worker(
    settings: Settings, api_url: str, log: Path, *, rate: int = 300
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "TELEGRAM_API_URL": api_url,
        "BOT_TOKEN": settings.bot_token or "",
        "SEND_RATE_PER_SECOND": str(rate),
        # The production default: a local emulator answers well within it even on a saturated
        # machine (1 s turned slow answers into "unknown" outcomes, i.e. lost messages).
        "SEND_TIMEOUT_SECONDS": "10",
        "JOB_INTERVAL_SECONDS": "3600",
    }
    handle = log.open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "indigo.cli",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=handle,
    )


@pytest.mark.slow
async def test_a_worker_killed_mid_broadcast_never_sends_a_message_twice(
    db: None,
    redis: Redis,
    settings: Settings,
    telegram_sandbox: SandboxTelegram,
    tmp_path: Path,
) -> None:
    telegram_sandbox.emulator.config.global_per_second = 1000
    parents = await make_recipients(1500)
    staff = await make_staff()
    broadcast = await broadcasts.create_broadcast(staff, "Хабарлама", "Сообщение", {})
    log = tmp_path / "worker.log"

    first = await _start_worker(settings, telegram_sandbox.url, log)
    try:

        async def some_delivered() -> bool:
            return telegram_sandbox.delivered >= 400

        await _wait_for(some_delivered, WAIT_BUDGET, "the first worker to deliver 400 messages")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    delivered_before_restart = telegram_sandbox.delivered
    assert delivered_before_restart < 1500, "the broadcast finished before the kill"
    # Only rows whose request may have started are `sending`: never more than the requests
    # the worker runs at once. Rows it had only claimed are not among them.
    in_flight = set(
        await Notification.filter(
            broadcast_id=broadcast.id, status=NotificationStatus.sending
        ).values_list("id", flat=True)
    )
    claimed = await Notification.filter(
        broadcast_id=broadcast.id, status=NotificationStatus.claimed
    ).count()
    bound = in_flight_limit(settings.model_copy(update={"send_rate_per_second": 300}))
    assert len(in_flight) <= bound

    second = await _start_worker(settings, telegram_sandbox.url, log)
    try:
        await _wait_for(
            lambda: _settled(broadcast.id), WAIT_BUDGET, "the restarted worker to finish"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()

    rows = await Notification.filter(broadcast_id=broadcast.id).prefetch_related("applicant")
    unknown = {r.applicant.chat_id for r in rows if r.status == NotificationStatus.unknown}
    sent = {r.applicant.chat_id for r in rows if r.status == NotificationStatus.sent}
    received = telegram_sandbox.received
    print(
        f"killed after {delivered_before_restart}; in flight {len(in_flight)} (bound {bound}),"
        f" claimed {claimed}; unknown outcome: {len(unknown)}"
    )
    assert max(received.values()) == 1, "somebody got the message twice"
    # Exactly the rows in flight at the kill have an unknown outcome (0 or 1 message each) ...
    assert {r.id for r in rows if r.status == NotificationStatus.unknown} == in_flight
    assert all(received[chat] <= 1 for chat in unknown)
    # ... and everybody else got the broadcast exactly once.
    assert len(sent) + len(unknown) == len(parents)
    assert all(received[chat] == 1 for chat in sent), "a sent row never arrived"


@pytest.mark.slow
async def test_two_workers_never_send_two_messages_to_one_chat_within_a_second(
    db: None,
    redis: Redis,
    settings: Settings,
    telegram_sandbox: SandboxTelegram,
    tmp_path: Path,
) -> None:
    # Telegram's per-chat limit without a burst: a second message within 1 s is a 429.
    telegram_sandbox.emulator.config.per_chat_per_second = 1.0
    telegram_sandbox.emulator.config.per_chat_burst = 1
    parents = await make_recipients(20)
    for round_ in range(3):
        for parent in parents:
            await outbox.notify(
                parent, Restored(application_number=1000 + round_), key=f"r:{parent.id}:{round_}"
            )
    log = tmp_path / "worker.log"
    workers = [await _start_worker(settings, telegram_sandbox.url, log, rate=100) for _ in range(2)]

    async def settled() -> bool:
        return not await Notification.filter(
            status__in=[
                NotificationStatus.pending,
                NotificationStatus.claimed,
                NotificationStatus.sending,
            ]
        ).exists()

    try:
        await _wait_for(settled, WAIT_BUDGET, "two workers to send 60 notifications")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await worker.wait()

    assert telegram_sandbox.too_many == 0, "two messages reached one chat within a second"
    assert telegram_sandbox.received == {parent.chat_id: 3 for parent in parents}
    assert await Notification.filter(status=NotificationStatus.sent).count() == 60
    # In each chat the three notifications, each once.
    for parent in parents:
        texts = telegram_sandbox.texts[parent.chat_id]
        numbers = sorted(n for n in range(1000, 1003) for t in texts if f"№{n}" in t)
        assert numbers == [1000, 1001, 1002]
