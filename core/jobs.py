"""Scheduled jobs run by `indigo worker`, safe with several workers.

Each job has a period key (a minute, a day, a year...). Before running, a worker inserts
JobRun(name, period); the unique constraint lets exactly one worker win, the others skip. Jobs
are idempotent anyway (conditional updates, outbox idempotency keys), so a run lost to a crash
is repeated by the next period. The job bodies are the domain services of core.referrals,
core.extension, core.seats and core.position_watch; a missing one is logged and skipped.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from core.models import JobRun
from core.platform import clock
from core.platform.settings import Settings

log = logging.getLogger(__name__)

Period = Callable[[datetime, Settings], str | None]  # local time -> period key, None: not due


def every_minutes(minutes: int) -> Period:
    def period(local: datetime, settings: Settings) -> str:
        slot = (local.hour * 60 + local.minute) // minutes
        return f"{local.date().isoformat()}/{minutes}m{slot}"

    return period


def daily(local: datetime, settings: Settings) -> str:
    return local.date().isoformat()


def in_extension_season(local: datetime, settings: Settings) -> str | None:
    today = local.date()
    opens = settings.month_day(settings.extension_opens, today.year)
    deadline = settings.month_day(settings.extension_deadline, today.year)
    return today.isoformat() if opens <= today <= deadline else None


def after_extension_deadline(local: datetime, settings: Settings) -> str | None:
    """Daily after the deadline until the year ends (the cleaning is idempotent)."""
    today = local.date()
    deadline = settings.month_day(settings.extension_deadline, today.year)
    return today.isoformat() if today > deadline else None


@dataclass(frozen=True)
class Job:
    name: str
    period: Period
    module: str
    function: str
    with_today: bool = False  # the function takes (settings, today) instead of (settings)


JOBS: tuple[Job, ...] = (
    # Expiry, the 24 h reminders and lapsed offers live in one service function.
    Job("referral_expiry", every_minutes(1), "core.referrals.lifecycle", "expire_due"),
    Job("stop_list_restore", every_minutes(5), "core.applications.lifecycle", "restore_due"),
    # Seats whose priority window ended (or nobody was addressed for) reach the next in line.
    Job("general_access", every_minutes(1), "core.seats.general_access", "announce_general_access"),
    Job("position_changes", every_minutes(15), "core.queue.watch", "notify_position_changes"),
    Job(
        "extension_reminders",
        in_extension_season,
        "core.applications.extension",
        "remind_extension",
        with_today=True,
    ),
    Job(
        "annual_cleaning",
        after_extension_deadline,
        "core.applications.extension",
        "annual_cleaning",
        with_today=True,
    ),
    Job("aged_out", daily, "core.applications.lifecycle", "remove_aged_out", with_today=True),
    # Safety net for the Redis position index: any change a process failed to apply.
    Job("position_index_rebuild", every_minutes(60), "core.queue.index", "rebuild_for"),
)


async def run_due(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Run every job whose current period no worker has claimed yet; returns their results."""
    now = now or clock.now()
    local = now.astimezone(settings.tz)
    results: dict[str, Any] = {}
    for job in JOBS:
        period = job.period(local, settings)
        if period is None:
            continue
        body = _resolve(job)
        if body is None:
            continue
        run = await claim(job.name, period)
        if run is None:
            continue
        try:
            if job.with_today:
                results[job.name] = await body(settings, local.date())
            else:
                results[job.name] = await body(settings)
        except Exception:
            log.exception("job %s (%s) failed; the next period retries", job.name, period)
            continue
        await JobRun.filter(id=run.id).update(finished_at=clock.now())
        if results[job.name]:
            log.info("job %s (%s): %s", job.name, period, results[job.name])
    return results


async def claim(name: str, period: str) -> JobRun | None:
    """Insert the run; None when another worker has it (unique name + period)."""
    try:
        return await JobRun.create(name=name, period=period)
    except IntegrityError:
        return None


def missing_jobs() -> list[str]:
    """Jobs whose service function is not available in this build."""
    return [f"{job.module}.{job.function}" for job in JOBS if _resolve(job) is None]


def _resolve(job: Job) -> Callable[..., Awaitable[Any]] | None:
    try:
        module = importlib.import_module(job.module)
    except ImportError:
        log.warning("job %s: %s is not available", job.name, job.module)
        return None
    body = getattr(module, job.function, None)
    if body is None:
        log.warning("job %s: %s.%s is not available", job.name, job.module, job.function)
    return body


def today_in(settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()
