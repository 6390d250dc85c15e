"""Scheduled jobs: one run per period however many workers ask, and what they do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core import jobs
from core.models import Application, ApplicationStatus, JobRun, Notification
from core.platform.settings import Settings
from tests.fixtures.seats import make_city, make_kindergarten, make_queue


async def test_several_workers_run_each_job_once_per_period(db: None, settings: Settings) -> None:
    now = datetime(2026, 9, 15, 6, 0, tzinfo=UTC)  # inside the extension season
    results = await asyncio.gather(*(jobs.run_due(settings, now) for _ in range(4)))
    ran = [name for result in results for name in result]
    assert sorted(ran) == sorted(set(ran))  # nobody ran a job twice
    assert {"referral_expiry", "extension_reminders", "aged_out"} <= set(ran)
    assert "annual_cleaning" not in ran  # before the deadline
    assert await JobRun.filter(name="referral_expiry").count() == 1
    later = await jobs.run_due(settings, now + timedelta(minutes=1))
    assert "referral_expiry" in later and "aged_out" not in later  # a new minute, same day
    assert all(callable(job.body) for job in jobs.JOBS)  # bodies are imported, never looked up


async def test_extension_reminders_reach_each_parent_once_a_season(
    db: None, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_queue(city, kindergarten, 3)
    day = datetime(2026, 9, 2, 6, 0, tzinfo=UTC)
    await Application.all().update(valid_until=day.date() + timedelta(days=30))
    await jobs.run_due(settings, day)
    await jobs.run_due(settings, day + timedelta(days=1))
    assert await Notification.filter(kind="extension_due").count() == 3
    # After the deadline the annual cleaning stop-lists what was not extended.
    await jobs.run_due(settings, datetime(2026, 10, 2, 6, 0, tzinfo=UTC))
    assert await Application.filter(status=ApplicationStatus.stop_listed).count() == 3
    assert await Notification.filter(kind="stop_listed").count() == 3
