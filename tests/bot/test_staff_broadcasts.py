"""Broadcasts at city scale (walkthrough finding 12): the confirmation repeats who receives it,
a broadcast can be cancelled (not only paused), a stop affects only the broadcast it names, and
the audience is selected in one statement whatever its size (no list of ids as parameters)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from core.models import Broadcast, Notification, NotificationStatus, StaffRole
from core.notifications import broadcasts
from tests.fixtures.bot import Parent
from tests.fixtures.seats import make_city, make_kindergarten, make_queue
from tests.fixtures.staff_texts import shown
from tests.fixtures.worker import make_staff


async def test_the_confirmation_repeats_the_audience_and_its_count(bot_app: Any) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_queue(city, kindergarten, 3)
    await make_staff(981, StaffRole.operator, city=city)
    staff = Parent(bot_app, 981, "ru")
    await staff.send("/broadcast")
    await staff.send("Ертең балабақшалар жабық")
    await staff.send("Завтра детские сады закрыты")
    preview = await staff.send(f"kindergarten={kindergarten.id} status=active")
    assert shown("City: {value}", "ru", value=city.name_ru) in preview
    assert shown("Kindergarten: {value}", "ru", value=kindergarten.name_ru) in preview
    assert "3" in preview and "Завтра детские сады закрыты" in preview


async def test_a_stop_affects_only_the_broadcast_it_names(bot_app: Any) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_queue(city, kindergarten, 2)
    superadmin = await make_staff(982)
    operator = await make_staff(983, StaffRole.operator, city=city)
    mine = await broadcasts.create_broadcast(superadmin, "kk", "ru", {})
    theirs = await broadcasts.create_broadcast(operator, "kk", "ru", {})

    # The superadmin's bare "stop" used to pause the newest broadcast of anybody (theirs).
    await Parent(bot_app, 982, "ru").send("/broadcast stop")
    assert (await Broadcast.get(id=mine.id)).status == broadcasts.PAUSED
    assert (await Broadcast.get(id=theirs.id)).status == broadcasts.RUNNING
    # Named by its number, a superadmin may stop another's.
    await Parent(bot_app, 982, "ru").send(f"/broadcast stop {theirs.id}")
    assert (await Broadcast.get(id=theirs.id)).status == broadcasts.PAUSED
    # An operator cannot name the superadmin's.
    await Parent(bot_app, 983, "ru").send(f"/broadcast resume {mine.id}")
    assert (await Broadcast.get(id=mine.id)).status == broadcasts.PAUSED


async def test_a_cancelled_broadcast_sends_nothing_more(bot_app: Any) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_queue(city, kindergarten, 4)
    staff = await make_staff(984, StaffRole.operator, city=city)
    broadcast = await broadcasts.create_broadcast(staff, "kk", "ru", {})
    await (
        Notification.filter(broadcast_id=broadcast.id)
        .limit(1)
        .update(status=NotificationStatus.sent)
    )  # one went out already
    sent_before = await Notification.filter(
        broadcast_id=broadcast.id, status=NotificationStatus.sent
    ).count()

    answer = await Parent(bot_app, 984, "ru").send("/broadcast cancel")

    assert f"{broadcast.id}" in answer
    assert (await Broadcast.get(id=broadcast.id)).status == broadcasts.CANCELLED
    rows = await Notification.filter(broadcast_id=broadcast.id)
    assert not [r for r in rows if r.status == NotificationStatus.pending]
    assert sum(r.status == NotificationStatus.sent for r in rows) == sent_before
    assert not await Broadcast.filter(status=broadcasts.RUNNING).exists()
    # "/broadcast cancel" no longer starts a new broadcast.
    assert await Broadcast.all().count() == 1


async def test_the_audience_is_one_statement_without_a_parameter_per_family(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A city's ~40,000 families as `IN ($1, ..., $40000)` exceed PostgreSQL's 32,767 bound
    parameters: the count and the send failed for a city-wide audience."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_queue(city, kindergarten, 40)
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    count = await broadcasts.count_recipients({"city": city.code, "status": "active"})
    assert count == 40
    statements = [r.getMessage() for r in caplog.records if r.name == "tortoise.db_client"]
    reads = [s for s in statements if "applicant" in s.lower() and "SELECT" in s.upper()]
    assert reads, "no SQL was seen"
    for sql in reads:
        assert len(re.findall(r"\$\d+|\?", sql)) < 10, sql
