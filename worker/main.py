"""`indigo worker`: the outbox sender, broadcast progress messages and the scheduled jobs.

`run_worker(settings)` is the process entry point (SIGTERM/SIGINT stop it cleanly);
`run_worker_loop(app)` runs the same loops inside another process's event loop (sandbox stack),
using `app.bot`, `app.sms`, `app.settings` (and `app.redis` when there is one). Several workers
may run at once: rows are leased with FOR UPDATE SKIP LOCKED and marked in flight one by one
(see worker.sender), the one-message-per-second-per-chat spacing is a Redis lock per chat, and
jobs run under a unique JobRun per period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from core.platform.settings import Settings
from worker.sender import Sender, _sleep_or_stop, outbox_depth

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.5  # seconds between edits of a broadcast's progress message
GAUGE_INTERVAL = 5.0


@dataclass
class WorkerApp:
    """What the worker needs of the composition root."""

    settings: Settings
    bot: Bot
    sms: Any


async def run_worker(settings: Settings) -> None:
    from core.platform.db import close_db, init_db

    await init_db(settings)
    app = _build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await run_worker_loop(app, stop=stop)
    finally:
        for closer in (getattr(app.sms, "close", None), app.bot.session.close):
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()
        await close_db()


async def run_worker_loop(app: Any, *, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set or the task is cancelled."""
    from core.people.staff import bootstrap_superadmins

    settings: Settings = app.settings
    stop = stop or asyncio.Event()
    try:
        await bootstrap_superadmins(settings)
    except Exception:
        log.exception("staff bootstrap failed")
    # The per-chat gate uses the app's Redis (shared by every worker process); a WorkerApp
    # has none and the sender connects to settings.redis_url itself.
    sender = Sender(app.bot, app.sms, settings, redis=getattr(app, "redis", None))
    loops = [
        asyncio.create_task(sender.run(stop), name="outbox-sender"),
        asyncio.create_task(_progress_loop(app.bot, stop), name="broadcast-progress"),
        asyncio.create_task(
            _jobs_loop(settings, stop, getattr(app, "redis", None)), name="scheduled-jobs"
        ),
        asyncio.create_task(_gauge_loop(stop), name="outbox-gauge"),
    ]
    log.info("worker started: %.0f messages per second", settings.send_rate_per_second)
    try:
        await stop.wait()
    finally:
        stop.set()
        # The sender finishes the requests it started (their outcome gets recorded).
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(loops[0]), settings.send_timeout_seconds + 1)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        log.info(
            "worker stopped: sent %d, failed %d, blocked %d, unknown %d",
            sender.stats.sent,
            sender.stats.failed,
            sender.stats.blocked,
            sender.stats.unknown,
        )


def _build(settings: Settings) -> WorkerApp:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    bot = Bot(
        token=settings.bot_token or "0:worker-without-token",
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    sms: Any = None
    try:
        from core.registry.sms_client import HttpSmsGateway

        sms = HttpSmsGateway(settings)
    except Exception:
        log.warning("SMS gateway not available: SMS notifications fail")
    return WorkerApp(settings=settings, bot=bot, sms=sms)


async def _progress_loop(bot: Bot, stop: asyncio.Event) -> None:
    """Edit each running broadcast's progress message (one message, edited in place)."""
    from core.notifications import broadcasts

    shown: dict[int, str] = {}
    while not stop.is_set():
        try:
            for broadcast in await broadcasts.active_with_progress_message():
                await _update_progress(bot, broadcast, shown)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("progress update failed")
        await _sleep_or_stop(stop, PROGRESS_INTERVAL)


async def _update_progress(bot: Bot, broadcast: Any, shown: dict[int, str]) -> None:
    from bot.notifications.render import progress_text
    from core.notifications import broadcasts

    progress = await broadcasts.progress(broadcast.id)
    if progress.finished and progress.status == broadcasts.RUNNING:
        await broadcasts.mark_done_if_finished(broadcast.id)
        progress = await broadcasts.progress(broadcast.id)
    language = await _staff_language(broadcast.staff_id)
    text = progress_text(progress, language)
    if shown.get(broadcast.id) == text:
        return
    try:
        await bot.edit_message_text(
            text=text,
            chat_id=broadcast.progress_chat_id,
            message_id=broadcast.progress_message_id,
        )
    except Exception as exc:  # "message is not modified" from another worker, a deleted chat
        log.debug("progress edit of broadcast %s: %r", broadcast.id, exc)
    shown[broadcast.id] = text


async def _staff_language(staff_id: int) -> str:
    from core.models import Applicant, StaffMember

    staff = await StaffMember.get_or_none(id=staff_id)
    if staff is None:
        return "ru"
    applicant = await Applicant.get_or_none(telegram_user_id=staff.telegram_user_id)
    return str(applicant.language) if applicant else "ru"


async def _jobs_loop(settings: Settings, stop: asyncio.Event, redis: Any = None) -> None:
    from core import jobs
    from core.queue.index import sync_changed

    if redis is None and settings.redis_url and settings.position_index:
        from core.platform.redis import make_redis

        redis = make_redis(settings)
    while not stop.is_set():
        try:
            await jobs.run_due(settings)
            await sync_changed(redis)  # stop-lists, expiries and restores move positions
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled jobs failed")
        await _sleep_or_stop(stop, settings.job_interval_seconds)


async def _gauge_loop(stop: asyncio.Event) -> None:
    try:
        from core.platform.metrics import OUTBOX_DEPTH
    except Exception:
        return
    while not stop.is_set():
        with contextlib.suppress(Exception):
            OUTBOX_DEPTH.set(await outbox_depth())
        await _sleep_or_stop(stop, GAUGE_INTERVAL)
