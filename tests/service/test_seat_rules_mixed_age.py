"""Mixed-age groups ("от 3 до 5 лет" in the portal's protocols): one group takes several birth
years, for priority offers, the free-seat list, general access and the claim alike."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.models import Group, Language, Notification, Offer
from core.platform import clock
from core.platform.errors import DomainError
from core.referrals.take import take_seat
from core.seats.availability import available_for, precheck_facts, precheck_facts_orm
from core.seats.general_access import announce_general_access
from core.seats.releases import release_seats
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_city,
    make_kindergarten,
    this_year,
)


@pytest.fixture
async def mixed(db):
    """A Russian group for children of 3 and 4 by calendar year, in kindergarten 1."""
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    group = await Group.create(
        kindergarten=kindergarten,
        name="Разновозрастная",
        birth_year=cohort_year(4),
        last_birth_year=cohort_year(3),
        age_from=3,
        age_to=5,
        language=Language.ru,
        capacity=20,
    )
    return city, kindergarten, group


async def _app(city, kindergarten, age: int, minutes: int):
    start = clock.now() - timedelta(days=500)
    return await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        born=date(this_year() - age, 6, 1),
        submitted_at=start + timedelta(minutes=minutes),
    )


async def test_a_mixed_age_group_offers_its_seats_to_both_cohorts_in_one_queue_order(
    mixed, settings
):
    """The portal guide's protocols list groups "от 3 до 5 лет" and "от 3 до 6 лет"; DOMAIN.md:
    staff release seats by "age range or birth year". The group's queue is its cohorts' queues
    merged as one cohort (extraordinary first, then the interleave, each by submission time)."""
    city, kindergarten, group = mixed
    four = await _app(city, kindergarten, 4, minutes=2)
    three = await _app(city, kindergarten, 3, minutes=1)
    five = await _app(city, kindergarten, 5, minutes=0)  # the oldest application, too old

    release = await release_seats(group.id, 2, actor="staff:1", settings=settings)

    offered = await Offer.filter(release_id=release.id).order_by("id")
    assert [o.application_id for o in offered] == [three.id, four.id]
    assert [o.group_id for o in await available_for(three.id, settings)] == [group.id]
    with pytest.raises(DomainError) as refused:
        await take_seat(five.id, group.id, actor="parent", settings=settings)
    assert refused.value.params.get("why") == "birth_year_mismatch"
    referral = await take_seat(four.id, group.id, actor="parent", settings=settings)
    assert referral.group_id == group.id
    for app in (three, four, five):
        now = clock.now()
        assert await precheck_facts(app.id, group.id, now) == await precheck_facts_orm(
            app.id, group.id, now
        )


async def test_open_seats_of_a_mixed_age_group_reach_and_serve_both_cohorts(mixed, settings):
    city, _kindergarten, group = mixed
    other_kg = await make_kindergarten(city, 2)
    three = await _app(city, other_kg, 3, minutes=1)
    four = await _app(city, other_kg, 4, minutes=2)
    settings = settings.model_copy(update={"general_access_notify_multiple": 2})
    release = await release_seats(group.id, 1, actor="staff:1", settings=settings)  # nobody first

    told = await Notification.filter(kind="seat_offered").values_list("params", flat=True)
    assert [p["application_id"] for p in told if p["release_id"] == release.id] == [
        three.id,
        four.id,
    ]
    assert await announce_general_access(settings) == 0  # already told
    assert [o.via for o in await available_for(four.id, settings)] == ["general"]
    assert (await take_seat(four.id, group.id, actor="parent", settings=settings)).group_id
