"""The worker's loops: the outbox sender, broadcast progress messages and the scheduled jobs.

`run_worker_loop(...)` runs them until `stop` is set, in `indigo worker` (indigo.runners.worker,
which builds the dependencies with the composition root) or inside another process's event loop
(the sandbox stack). Several workers may run at once: rows are leased with FOR UPDATE SKIP
LOCKED and marked in flight one by one (see worker.sender), the one-message-per-second-per-chat
spacing is a Redis lock per chat, and jobs run under a unique JobRun per period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot
from redis.asyncio import Redis

from bot.notifications.render import progress_text
from core import jobs
from core.models import Applicant, Broadcast, StaffMember
from core.notifications import broadcasts
from core.people.staff import bootstrap_superadmins
from core.platform.metrics import OUTBOX_DEPTH
from core.platform.settings import Settings
from core.queue.index import sync_changed
from core.registry.ports import SmsGateway
from worker.sender import Sender, outbox_depth, sleep_or_stop

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.5  # seconds between edits of a broadcast's progress message
GAUGE_INTERVAL = 5.0
STAFF_LANGUAGE = "ru"  # a staff member who never opened the bot reads Russian


async def run_worker_loop(
    settings: Settings,
    bot: Bot,
    sms: SmsGateway,
    redis: Redis,
    *,
    stop: asyncio.Event,
) -> None:
    """Run until `stop` is set or the task is cancelled."""
    try:
        await bootstrap_superadmins(settings)
    except Exception:
        log.exception("staff bootstrap failed")
    # The per-chat gate uses the app's Redis (shared by every worker process).
    sender = Sender(bot, sms, settings, redis=redis)
    loops = [
        asyncio.create_task(sender.run(stop), name="outbox-sender"),
        asyncio.create_task(_progress_loop(bot, stop), name="broadcast-progress"),
        asyncio.create_task(_jobs_loop(settings, stop, redis), name="scheduled-jobs"),
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


async def _progress_loop(bot: Bot, stop: asyncio.Event) -> None:
    """Edit each running broadcast's progress message (one message, edited in place)."""
    shown: dict[int, str] = {}
    while not stop.is_set():
        try:
            for broadcast in await broadcasts.active_with_progress_message():
                await _update_progress(bot, broadcast, shown)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("progress update failed")
        await sleep_or_stop(stop, PROGRESS_INTERVAL)


async def _update_progress(bot: Bot, broadcast: Broadcast, shown: dict[int, str]) -> None:
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
    staff = await StaffMember.get_or_none(id=staff_id)
    if staff is None:
        return STAFF_LANGUAGE
    applicant = await Applicant.get_or_none(telegram_user_id=staff.telegram_user_id)
    return str(applicant.language) if applicant else STAFF_LANGUAGE


async def _jobs_loop(settings: Settings, stop: asyncio.Event, redis: Redis) -> None:
    index_redis = redis if settings.position_index else None
    while not stop.is_set():
        try:
            await jobs.run_due(settings)
            await sync_changed(index_redis)  # stop-lists, expiries and restores move positions
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled jobs failed")
        await sleep_or_stop(stop, settings.job_interval_seconds)


async def _gauge_loop(stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(Exception):
            OUTBOX_DEPTH.set(await outbox_depth())
        await sleep_or_stop(stop, GAUGE_INTERVAL)
