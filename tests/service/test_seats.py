"""Seat releases: who is offered the seats, when they open to everyone, what a parent may take."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import audit
from core.calendar.working_days import add_working_days
from core.models import (
    Application,
    ApplicationStatus,
    GroupKind,
    Language,
    Notification,
    Offer,
    OfferStatus,
    QueueType,
    ReferralMode,
    Seat,
    Stream,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import WindowUnit
from core.referrals.take import take_seat
from core.seats.availability import available_for
from core.seats.general_access import decline_offer
from core.seats.releases import release_seats
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_queue,
)


@pytest.fixture
async def place(db):
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    return city, kindergarten, group


async def _offered(release) -> list[int]:
    return list(
        await Offer.filter(release_id=release.id)
        .order_by("id")
        .values_list("application_id", flat=True)
    )


async def test_the_first_in_the_kindergarten_queue_are_offered_the_seats(place, settings):
    city, kindergarten, group = place
    apps = await make_queue(city, kindergarten, 4)
    before = clock.now()

    release = await release_seats(group.id, 2, actor="staff:1", settings=settings)

    assert await _offered(release) == [apps[0].id, apps[1].id]
    seats = await Seat.filter(release_id=release.id)
    assert len(seats) == 2
    for seat in seats:
        assert before + timedelta(days=1) <= seat.priority_end_at <= clock.now() + timedelta(days=1)
    sent = await Notification.filter(kind="seat_offered").order_by("id")
    assert [n.applicant_id for n in sent] == [apps[0].applicant_id, apps[1].applicant_id]
    assert sent[0].params["kindergarten_kk"] == kindergarten.name_kk
    assert sent[0].params["deadline"] == release.priority_end_at.isoformat()
    assert (await audit.verify_chain()).entries >= 3


async def test_an_extraordinary_benefit_comes_before_an_earlier_general_application(
    place, settings
):
    city, kindergarten, group = place
    general = await make_queue(city, kindergarten, 3)
    late_but_extraordinary = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], stream=Stream.extraordinary
    )
    first_priority = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], stream=Stream.first_priority
    )

    release = await release_seats(group.id, 3, actor="staff:1", settings=settings)

    # Extraordinary first, then one first-priority, then general (ratio 3).
    assert await _offered(release) == [late_but_extraordinary.id, first_priority.id, general[0].id]


async def test_ineligible_applications_are_skipped_without_losing_their_place(place, settings):
    city, kindergarten, group = place
    choice = [(kindergarten, Language.ru)]
    start = clock.now() - timedelta(days=900)
    later = await make_application(
        city=city,
        choices=choice,
        submitted_at=start,
        referral_mode=ReferralMode.from_date,
        referral_from=clock.now().date() + timedelta(days=60),
    )
    stopped = await make_application(
        city=city,
        choices=choice,
        submitted_at=start + timedelta(hours=1),
        status=ApplicationStatus.stop_listed,
    )
    kazakh = await make_application(
        city=city, choices=[(kindergarten, Language.kk)], submitted_at=start + timedelta(hours=2)
    )
    ready = await make_application(
        city=city, choices=choice, submitted_at=start + timedelta(hours=3)
    )

    release = await release_seats(group.id, 1, actor="staff:1", settings=settings)

    assert await _offered(release) == [ready.id]
    assert {later.id, stopped.id, kazakh.id}.isdisjoint(await _offered(release))


async def test_seats_nobody_eligible_can_take_open_to_everyone_at_once(place, settings):
    city, kindergarten, group = place
    [only] = await make_queue(city, kindergarten, 1)

    release = await release_seats(group.id, 3, actor="staff:1", settings=settings)

    now = clock.now()
    seats = await Seat.filter(release_id=release.id).order_by("id")
    assert [s.priority_end_at > now for s in seats] == [True, False, False]
    assert await _offered(release) == [only.id]


async def test_a_correctional_group_is_offered_to_the_correctional_queue(place, settings):
    city, kindergarten, _ = place
    special = await make_group(kindergarten, kind=GroupKind.correctional, name="Логопедическая")
    choice = [(kindergarten, Language.ru)]
    await make_application(city=city, choices=choice)
    correctional = await make_application(
        city=city, choices=choice, queue_type=QueueType.correctional
    )

    release = await release_seats(special.id, 1, actor="staff:1", settings=settings)

    assert await _offered(release) == [correctional.id]


async def test_a_child_too_young_by_calendar_year_is_not_offered(place, settings):
    city, kindergarten, _ = place
    nursery = await make_group(kindergarten, birth_year=cohort_year(1), name="Ясельная")
    await make_application(
        city=city, choices=[(kindergarten, Language.ru)], born=date(cohort_year(1), 1, 1)
    )

    release = await release_seats(nursery.id, 1, actor="staff:1", settings=settings)

    assert await _offered(release) == []
    assert release.priority_end_at <= clock.now()


async def test_a_working_day_window(place, settings):
    _, _, group = place
    working = settings.model_copy(
        update={"priority_window_unit": WindowUnit.working, "priority_window": 2}
    )
    before = clock.now()
    release = await release_seats(group.id, 1, actor="staff:1", settings=working)
    assert release.priority_end_at <= clock.now()  # nobody queued: general access at once

    city = await make_city("almaty")
    kindergarten = await make_kindergarten(city, 7)
    group = await make_group(kindergarten)
    await make_queue(city, kindergarten, 1)
    release = await release_seats(group.id, 1, actor="staff:1", settings=working)
    assert (
        add_working_days(before, 2, settings.tz)
        <= release.priority_end_at
        <= add_working_days(clock.now(), 2, settings.tz)
    )


async def test_what_a_parent_may_take_now(place, settings):
    city, kindergarten, group = place
    [addressee, waiting] = await make_queue(city, kindergarten, 2)
    elsewhere = await make_kindergarten(city, 2)
    other_group = await make_group(elsewhere, name="Старшая")
    kazakh_group = await make_group(elsewhere, language=Language.kk, name="Ортаңғы")
    await release_seats(other_group.id, 2, actor="staff:1", settings=settings)  # general access
    await release_seats(kazakh_group.id, 1, actor="staff:1", settings=settings)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)

    # Open seats are matched by age, whatever the teaching language (tests/test_seat_rules.py).
    options = await available_for(addressee.id, settings)
    assert [(o.group_id, o.via, o.free) for o in options] == [
        (group.id, "offer", 1),
        (kazakh_group.id, "general", 1),
        (other_group.id, "general", 2),
    ]
    assert options[0].kindergarten_name_ru == kindergarten.name_ru
    assert [(o.group_id, o.via) for o in await available_for(waiting.id, settings)] == [
        (kazakh_group.id, "general"),
        (other_group.id, "general"),
    ]

    await take_seat(addressee.id, group.id, actor="parent", settings=settings)
    assert await available_for(addressee.id, settings) == []  # a live referral: nothing more


async def test_declining_an_offer_keeps_the_place_and_opens_the_seat(place, settings):
    city, kindergarten, group = place
    addressee, other = await make_queue(city, kindergarten, 2)
    release = await release_seats(group.id, 1, actor="staff:1", settings=settings)

    await decline_offer(addressee.id, release.id, actor="parent", settings=settings)

    assert (await Offer.get(application_id=addressee.id)).status == OfferStatus.declined
    assert (await Application.get(id=addressee.id)).status == ApplicationStatus.active
    # Nobody holds the seat any more: it is in general access now.
    assert [o.via for o in await available_for(other.id, settings)] == ["general"]
    with pytest.raises(DomainError) as refused:
        await decline_offer(addressee.id, release.id, actor="parent", settings=settings)
    assert refused.value.reason == "offer_not_open"


async def test_releasing_nothing_is_refused(place, settings):
    _, _, group = place
    with pytest.raises(DomainError) as refused:
        await release_seats(group.id, 0, actor="staff:1", settings=settings)
    assert refused.value.reason == "invalid_seat_count"
