"""/stats per scope (walkthrough finding 7): every figure an operator of a city, a kindergarten
admin and a superadmin read equals a direct count of the rows, with several releases, an
enrolment, a revoked referral whose seat came back, a release older than 5 days and children who
left their kindergarten (one of them a week ago), in two cities. "Dismissed in 5 days" counts the
departures staff recorded (core.referrals.departures), not seats released."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from core.models import (
    Application,
    ApplicationStatus,
    Departure,
    Kindergarten,
    Referral,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
    StaffRole,
)
from core.platform import clock
from core.platform.dates import local_today
from core.platform.settings import Settings
from core.referrals import lifecycle
from core.referrals.departures import dismiss
from core.referrals.take import take_seat
from core.seats import releases
from core.views import stats
from tests.fixtures.bot import Parent
from tests.fixtures.seats import make_city, make_group, make_kindergarten, make_queue
from tests.fixtures.worker import make_staff

FIGURES = ("kindergartens", "free", "queued", "enrolled", "dismissed", "referrals")


async def _direct(city_id: int | None) -> dict[str, int]:
    """The figures counted row by row in Python, from everything in the database."""
    since = clock.now() - timedelta(days=5)
    kgs = {kg.id: kg.city_id for kg in await Kindergarten.all()}
    in_city = [kg for kg, city in kgs.items() if city_id is None or city == city_id]
    seats = await Seat.all().prefetch_related("group")
    referrals = [r for r in await Referral.all() if r.kindergarten_id in in_city]
    today = local_today()
    return {
        "kindergartens": len(in_city),
        "free": sum(
            1 for s in seats if s.status == SeatStatus.free and s.group.kindergarten_id in in_city
        ),
        "queued": sum(
            1
            for a in await Application.all()
            if a.status == ApplicationStatus.active and (city_id is None or a.city_id == city_id)
        ),
        "enrolled": sum(
            1
            for r in referrals
            if r.status in (ReferralStatus.enrolled, ReferralStatus.departed)
            and r.closed_at
            and r.closed_at >= since
        ),
        "dismissed": sum(
            1
            for d in await Departure.all()
            if d.kindergarten_id in in_city and d.undone_at is None and (today - d.left_on).days < 5
        ),
        "referrals": len(referrals),
    }


def _read(shown: str) -> dict[str, int]:
    """The figures of the /stats message, line by line (the first number of each line); the
    complaint figures that follow for operators and superadmins are another message."""
    first = shown.split("\n\n")[0].split("Жалобы")[0].split("Шағымдар")[0]
    numbers = [
        int(re.sub(r"\D", "", match.group(1)))
        for line in first.splitlines()[1:]
        if (match := re.search(r":\s*([\d\s\xa0\u202f]+)", line))
    ]
    return dict(zip(FIGURES, numbers, strict=True))


async def test_stats_match_a_direct_count_for_each_scope(bot_app: Any, settings: Settings) -> None:
    astana, almaty = await make_city("astana"), await make_city("almaty")
    first, second = await make_kindergarten(astana, 1), await make_kindergarten(astana, 2)
    elsewhere = await make_kindergarten(almaty, 3)
    g1, g2, g3 = await make_group(first), await make_group(second), await make_group(elsewhere)
    queue = await make_queue(astana, first, 6)
    await make_queue(astana, first, 1, status=ApplicationStatus.stop_listed)
    almaty_queue = await make_queue(almaty, elsewhere, 2)

    # Astana: three releases in 5 days (3 + 2 + 1 seats) and one a week old (2 seats).
    await releases.release_seats(g1.id, 3, actor="staff:t", settings=settings)
    await releases.release_seats(g2.id, 2, actor="staff:t", settings=settings, window=timedelta(0))
    await releases.release_seats(g1.id, 1, actor="staff:t", settings=settings, window=timedelta(0))
    old = await releases.release_seats(g2.id, 2, actor="staff:t", settings=settings)
    await SeatRelease.filter(id=old.id).update(created_at=clock.now() - timedelta(days=7))
    # One child enrolled, one referral revoked: its seat comes back as a new release.
    enrolled = await take_seat(queue[0].id, g1.id, actor="test", settings=settings)
    await lifecycle.enroll(enrolled.id, actor="staff:t")
    revoked = await take_seat(queue[1].id, g1.id, actor="test", settings=settings)
    await lifecycle.revoke(revoked.id, "ошибочно", actor="staff:t", settings=settings)
    # Almaty: one release of 4 seats; two children enrolled, both left, one of them a week ago.
    await releases.release_seats(g3.id, 4, actor="staff:t", settings=settings)
    superadmin = await make_staff(970, StaffRole.superadmin)
    for app in almaty_queue:
        referral = await take_seat(app.id, g3.id, actor="test", settings=settings)
        await lifecycle.enroll(referral.id, actor="staff:t")
        await dismiss(referral.id, "moved_away", superadmin, settings=settings)
    await Departure.filter(application_id=almaty_queue[0].id).update(
        left_on=local_today() - timedelta(days=7)
    )
    # Astana: the enrolled child left today (still counted as enrolled in these days).
    await dismiss(enrolled.id, "went_to_school", superadmin, settings=settings)

    city_figures = await _direct(astana.id)
    assert city_figures["dismissed"] == 1
    assert city_figures["enrolled"] == 1 and city_figures["referrals"] == 2
    everywhere = await _direct(None)
    assert everywhere["dismissed"] == 2 and everywhere["kindergartens"] == 3

    open_city = await stats.open_data(astana.id)
    assert (
        open_city.kindergartens,
        open_city.free_seats,
        open_city.queued_applications,
        open_city.enrolled_5_days,
        open_city.dismissed_5_days,
        open_city.referrals_issued,
    ) == tuple(city_figures[f] for f in FIGURES)

    await make_staff(971, StaffRole.operator, city=astana)
    # A kindergarten admin stored without a city reads their kindergarten's city, never all.
    await make_staff(972, StaffRole.kindergarten_admin, kindergarten=second)
    await make_staff(973, StaffRole.superadmin)
    assert _read(await Parent(bot_app, 971, "ru").send("/stats")) == city_figures
    assert _read(await Parent(bot_app, 972, "kk").send("/stats")) == city_figures
    assert _read(await Parent(bot_app, 973, "ru").send("/stats")) == everywhere
