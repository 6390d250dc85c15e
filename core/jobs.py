"""Scheduled jobs run by `indigo worker`, safe with several workers.

Each job has a period key (a minute, a day, a year...). Before running, a worker inserts
JobRun(name, period); the unique constraint lets exactly one worker win, the others skip. Jobs
are idempotent anyway (conditional updates, outbox idempotency keys), so a run lost to a crash
is repeated by the next period. The job bodies are the domain services themselves (callables,
so a missing one is an import error at start, never a silently skipped job).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.exceptions import IntegrityError

from core.applications.benefits import recheck_ended_benefits
from core.applications.extension import annual_cleaning, remind_extension
from core.applications.lifecycle import remove_aged_out, restore_due
from core.complaints.handling import escalate_overdue
from core.ledger.log import sign_job
from core.models import JobRun
from core.platform import clock
from core.platform.settings import Settings
from core.queue.index import rebuild_for
from core.queue.watch import notify_position_changes
from core.referrals.benefits import benefit_certificates
from core.referrals.lifecycle import expire_due
from core.registry.gov_client import HttpGovGateway
from core.seats.general_access import announce_general_access

log = logging.getLogger(__name__)

Period = Callable[[datetime, Settings], str | None]  # local time -> period key, None: not due
Body = Callable[[Settings, date], Awaitable[int | None]]  # (settings, local today) -> a count


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
    body: Body


def undated(body: Callable[[Settings], Awaitable[int | None]]) -> Body:
    """A job body that does not need the local date."""

    async def run(settings: Settings, today: date) -> int | None:
        return await body(settings)

    return run


async def recheck_benefits(settings: Settings, today: date) -> int:
    """`recheck_ended_benefits` with a registry client of its own for the run."""
    gov = HttpGovGateway(settings)
    try:
        return await recheck_ended_benefits(settings, today, gov)
    finally:
        await gov.close()


JOBS: tuple[Job, ...] = (
    # Expiry, the 24 h reminders and lapsed offers live in one service function.
    Job("referral_expiry", every_minutes(1), undated(expire_due)),
    Job("stop_list_restore", every_minutes(5), undated(restore_due)),
    # Seats whose priority window ended (or nobody was addressed for) reach the next in line.
    Job("general_access", every_minutes(1), undated(announce_general_access)),
    Job("position_changes", every_minutes(15), undated(notify_position_changes)),
    Job("extension_reminders", in_extension_season, remind_extension),
    Job("annual_cleaning", after_extension_deadline, annual_cleaning),
    Job("aged_out", daily, remove_aged_out),
    Job("benefit_certificates", daily, benefit_certificates),
    # First-priority benefits whose registry record ended are looked up again (rule 14b).
    Job("benefit_recheck", daily, recheck_benefits),
    # Safety net for the Redis position index: any change a process failed to apply.
    Job("position_index_rebuild", every_minutes(60), undated(rebuild_for)),
    Job("ledger_checkpoint", every_minutes(1), undated(sign_job)),
    Job(
        "complaints_overdue", every_minutes(15), undated(escalate_overdue)
    ),  # the public log's checkpoint
)


async def run_due(settings: Settings, now: datetime | None = None) -> dict[str, int | None]:
    """Run every job whose current period no worker has claimed yet; returns their results."""
    now = now or clock.now()
    local = now.astimezone(settings.tz)
    results: dict[str, int | None] = {}
    for job in JOBS:
        period = job.period(local, settings)
        if period is None:
            continue
        run = await claim(job.name, period)
        if run is None:
            continue
        try:
            results[job.name] = await job.body(settings, local.date())
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
