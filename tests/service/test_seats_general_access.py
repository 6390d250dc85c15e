"""Seats opening to general access reach the next in line of the city, a few per seat, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, timedelta

import pytest

from bot.notifications.render import render
from core import jobs
from core.applications.submission import SubmissionInput, submit
from core.models import (
    Application,
    ApplicationStatus,
    Language,
    Notification,
    QueueType,
    Referral,
    ReferralMode,
    ReferralStatus,
    SeatRelease,
)
from core.notifications.kinds import load
from core.platform import clock
from core.referrals.lifecycle import decline_referral
from core.referrals.take import take_seat
from core.seats.general_access import announce_general_access
from core.seats.releases import release_seats
from tests.fixtures import queue as fq
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_city,
    make_group,
    make_kindergarten,
)


@pytest.fixture
def two(settings):
    """Two notifications per seat opened to general access."""
    return settings.model_copy(update={"general_access_notify_multiple": 2})


@pytest.fixture
async def city_queue(db):
    """Kindergarten 1 with a Russian group; a city queue spread over kindergartens 1 and 2,
    in submission order (the distribution order: everybody is in the general stream)."""
    city = await make_city()
    kg1 = await make_kindergarten(city, 1)
    kg2 = await make_kindergarten(city, 2)
    group = await make_group(kg1)
    start = clock.now() - timedelta(days=500)
    apps = []
    for i in range(12):
        kindergarten = kg1 if i % 3 == 0 else kg2
        apps.append(
            await make_application(
                city=city,
                choices=[(kindergarten, Language.ru)],
                submitted_at=start + timedelta(hours=i),
            )
        )
    return {"city": city, "kg1": kg1, "kg2": kg2, "group": group, "apps": apps}


async def _general(release_id: int | None = None) -> list[int]:
    """Applications told of general-access seats, in the order written."""
    rows = await Notification.filter(kind="seat_offered").order_by("id")
    return [
        n.params["application_id"]
        for n in rows
        if n.params.get("general_access")
        and (release_id is None or n.params["release_id"] == release_id)
    ]


async def _priority() -> list[int]:
    rows = await Notification.filter(kind="seat_offered").order_by("id")
    return [n.params["application_id"] for n in rows if not n.params.get("general_access")]


async def test_when_the_window_ends_the_next_in_the_city_queue_are_told(city_queue, two):
    apps = city_queue["apps"]
    # kg1's own queue is apps 0, 3, 6, 9: its first two are the priority addressees.
    release = await release_seats(city_queue["group"].id, 2, actor="staff:1", settings=two)
    assert await _priority() == [apps[0].id, apps[3].id]
    assert await announce_general_access(two) == 0  # the window is still open
    assert await _general() == []

    # Some of the city's next ones cannot take a seat now: they are passed over, keeping order.
    await Application.filter(id=apps[1].id).update(status=ApplicationStatus.stop_listed)
    await Application.filter(id=apps[2].id).update(
        referral_mode=ReferralMode.from_date,
        referral_from=clock.now().date() + timedelta(days=90),
    )
    other_language = await make_application(
        city=city_queue["city"],
        choices=[(city_queue["kg2"], Language.kk)],
        submitted_at=clock.now() - timedelta(days=900),
    )

    with clock.travel(timedelta(days=2)):
        assert await announce_general_access(two) == 4
        # The addressees who did not act keep their place but are not told again; 2 x 2 seats.
        # The oldest one chose another teaching language: open seats are matched by age, so it
        # is told first (tests/test_seat_rules.py).
        told = [other_language.id, apps[4].id, apps[5].id, apps[6].id]
        assert await _general(release.id) == told
        assert await announce_general_access(two) == 0
    assert await _general() == told

    sent = await Notification.get(idempotency_key=f"seat_offered:general:{release.id}:{apps[4].id}")
    assert sent.params["kindergarten_ru"] == city_queue["kg1"].name_ru
    assert sent.params["group"] == city_queue["group"].name
    text = render(load(sent.kind, sent.params), "ru").text
    assert f"№{apps[4].number}" in text
    assert "только вы" not in text  # no priority window in a general-access message

    # The parent told may take the seat of the button's release.
    with clock.travel(timedelta(days=2)):
        referral = await take_seat(apps[4].id, release.group_id, actor="parent", settings=two)
    assert referral.status == ReferralStatus.awaiting_enrollment


async def test_two_workers_announce_once(city_queue, two):
    release = await release_seats(city_queue["group"].id, 1, actor="staff:1", settings=two)
    with clock.travel(timedelta(days=2)):
        counts = await asyncio.gather(announce_general_access(two), announce_general_access(two))
    assert sorted(counts) == [0, 2]
    told = await _general(release.id)
    assert len(told) == 2 and len(set(told)) == 2
    assert (await SeatRelease.get(id=release.id)).general_announced_at is not None


async def test_seats_nobody_was_addressed_for_are_announced_at_release(db, two):
    city = await make_city()
    kg1 = await make_kindergarten(city, 1)
    kg2 = await make_kindergarten(city, 2)
    group = await make_group(kg1)
    start = clock.now() - timedelta(days=500)
    own = await make_application(city=city, choices=[(kg1, Language.ru)], submitted_at=start)
    others = [
        await make_application(
            city=city, choices=[(kg2, Language.ru)], submitted_at=start + timedelta(hours=i + 1)
        )
        for i in range(8)
    ]

    # kg1's queue has one eligible application for three seats: two open to everyone at once.
    release = await release_seats(group.id, 3, actor="staff:1", settings=two)
    assert await _priority() == [own.id]
    assert await _general(release.id) == [o.id for o in others[:4]]
    assert await announce_general_access(two) == 0  # already announced

    # When the window ends, the seat still held for the addressee opens too: two more are told.
    with clock.travel(timedelta(days=2)):
        assert await announce_general_access(two) == 2
    assert await _general(release.id) == [o.id for o in others[:6]]


async def test_a_declined_referral_returns_a_seat_that_reaches_the_queue_the_same_way(
    city_queue, two
):
    apps = city_queue["apps"]
    group = city_queue["group"]
    await release_seats(group.id, 1, actor="staff:1", settings=two)
    referral = await take_seat(apps[0].id, group.id, actor="parent", settings=two)
    await decline_referral(referral.id, apps[0].applicant_id, actor="parent", settings=two)

    returned = await SeatRelease.filter(group_id=group.id).order_by("-id").first()
    assert returned is not None and returned.seats == 1
    # The next of kg1's queue gets the priority offer of the returned seat...
    assert (await _priority())[-1] == apps[3].id
    with clock.travel(timedelta(days=2)):
        assert await announce_general_access(two) == 2
    # ...and when its window ends the city's next ones (not the parent who declined) are told.
    assert await _general(returned.id) == [apps[1].id, apps[2].id]
    assert await Referral.filter(application_id=apps[0].id).count() == 1


async def test_the_worker_runs_the_announcement_every_minute(city_queue, two):
    release = await release_seats(city_queue["group"].id, 1, actor="staff:1", settings=two)
    with clock.travel(timedelta(days=2)):
        moment = clock.now().astimezone(UTC).replace(second=0, microsecond=0)
        results = await jobs.run_due(two, moment)
        again = await jobs.run_due(two, moment)
    assert results["general_access"] == 2
    assert "general_access" not in again  # the same minute is not run twice
    assert "position_changes" in results
    assert len(await _general(release.id)) == 2


async def test_a_parent_offered_the_seat_at_submission_is_not_told_again(db, settings):
    city = await fq.make_city()
    kg1 = await fq.make_kindergarten(city, 1, languages="ru")
    kg2 = await fq.make_kindergarten(city, 2, languages="ru")
    year = cohort_year()
    ru1 = await make_group(kg1, birth_year=year)
    ru2 = await make_group(kg2, birth_year=year)
    waiting = await make_application(city=city, choices=[(kg1, Language.ru), (kg2, Language.ru)])
    held = await release_seats(ru1.id, 1, actor="staff:1", settings=settings)

    async def submitted(tg: int) -> Application:
        parent = await fq.make_parent(telegram_user_id=tg)
        child = await fq.make_child(parent, date(year, 6, 1))
        data = SubmissionInput(
            applicant_id=parent.id,
            child_id=child.id,
            city_id=city.id,
            queue_type=QueueType.general,
            choices=[(kg1.id, Language.ru)],
            legal_representative=True,
        )
        return await submit(data, settings=settings, actor=f"applicant:{tg}")

    earlier = await submitted(801)  # the seat is held for `waiting`: nothing offered
    await release_seats(ru2.id, 1, actor="staff:1", settings=settings)
    await take_seat(waiting.id, ru2.id, actor="parent", settings=settings)
    later = await submitted(802)  # the held seat is nobody's now: offered at submission
    assert await Notification.filter(idempotency_key=f"seat_offered:submission:{later.id}").exists()

    assert await announce_general_access(settings) == 1
    assert await Notification.filter(
        idempotency_key=f"seat_offered:general:{held.id}:{earlier.id}"
    ).exists()
    told = await Notification.filter(
        kind="seat_offered", applicant_id__in=[earlier.applicant_id, later.applicant_id]
    ).values_list("applicant_id", flat=True)
    assert sorted(told) == sorted([earlier.applicant_id, later.applicant_id])  # once each
