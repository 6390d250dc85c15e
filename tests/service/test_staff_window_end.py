"""When a release's priority window ends, its addressees who did nothing are told too that the
seat is now open to everybody (walkthrough finding 10: their push still said "only you until
..." and they heard nothing), once; those who took or declined it are not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.models import Language, Notification, StaffRole
from core.platform import clock
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats.general_access import announce_general_access, decline_offer
from core.seats.releases import release_seats
from tests.fixtures.seats import make_application, make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff


async def _general_pushes(applicant_id: int) -> int:
    rows = await Notification.filter(applicant_id=applicant_id, kind="seat_offered")
    return sum(1 for row in rows if row.params.get("general_access"))


async def test_the_addressees_who_did_nothing_hear_that_the_window_ended(
    db: None, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await make_staff(990, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    queue: list[Any] = [
        await make_application(city=city, choices=[(kindergarten, Language.ru)]) for _ in range(5)
    ]
    idle, taker, decliner, *rest = queue
    await release_seats(group.id, 3, actor="staff:990", settings=settings)
    await take_seat(taker.id, group.id, actor="parent", settings=settings)
    release_id = (await Notification.filter(kind="seat_offered").first()).params["release_id"]
    await decline_offer(decliner.id, release_id, actor="parent", settings=settings)
    assert await _general_pushes(idle.applicant_id) == 0

    with clock.travel(timedelta(days=settings.priority_window + 4)):
        await announce_general_access(settings)
        await announce_general_access(settings)  # the timer again: nobody is told twice

    assert await _general_pushes(idle.applicant_id) == 1
    assert await _general_pushes(taker.applicant_id) == 0
    assert await _general_pushes(decliner.applicant_id) == 0
    assert [await _general_pushes(app.applicant_id) for app in rest] == [1, 1]
