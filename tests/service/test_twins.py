"""Twins born within a month are a batch: referred only when enough seats exist for all."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

import pytest

from core.ledger import log
from core.ledger.imports import log_imported
from core.models import (
    ApplicationStatus,
    Notification,
    Offer,
    OfferStatus,
    Referral,
    Seat,
    SeatStatus,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.referrals.take import take_seat
from core.seats.availability import available_for, precheck_facts, precheck_facts_orm
from core.seats.eligibility import twin_applications
from core.seats.releases import release_seats
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_child,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
)
from verifier.replay import replay


@pytest.fixture
async def twins(db):
    """A parent with twins (born a day apart) queued first in one kindergarten, and one
    unrelated application after them."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    parent = await make_parent()
    year = cohort_year()
    choice = [(kindergarten, group.language)]
    first = await make_application(
        city=city,
        choices=choice,
        applicant=parent,
        child=await make_child(parent, date(year, 3, 30)),
    )
    second = await make_application(
        city=city,
        choices=choice,
        applicant=parent,
        child=await make_child(parent, date(year, 3, 31)),
    )
    other = await make_application(city=city, choices=choice)
    return {"city": city, "kg": kindergarten, "group": group, "a": first, "b": second, "c": other}


async def _open_seats(group, n, settings):
    """`n` seats in general access at once (no priority window)."""
    await release_seats(group.id, n, actor="staff:1", settings=settings, window=timedelta(0))


async def test_twins_are_found_by_parent_and_birth_date(twins):
    assert [a.id for a in await twin_applications(twins["a"])] == [twins["b"].id]
    assert [a.id for a in await twin_applications(twins["b"])] == [twins["a"].id]
    assert await twin_applications(twins["c"]) == []


async def test_taking_a_seat_for_one_twin_refers_both(twins, settings):
    # The twins are first in the kindergarten's queue: a release of 2 seats offers both.
    await release_seats(twins["group"].id, 2, actor="staff:1", settings=settings)

    referral = await take_seat(twins["a"].id, twins["group"].id, actor="parent", settings=settings)

    assert referral.application_id == twins["a"].id
    referred = await Referral.all().values_list("application_id", flat=True)
    assert sorted(referred) == sorted([twins["a"].id, twins["b"].id])
    assert await Seat.filter(status=SeatStatus.taken).count() == 2
    assert await Offer.filter(status=OfferStatus.taken).count() == 2
    issued = await Notification.filter(kind="referral_issued").values_list("params", flat=True)
    assert sorted(p["application_number"] for p in issued) == sorted(
        [twins["a"].number, twins["b"].number]
    )
    # The second twin already holds its referral: asking again is refused clearly.
    with pytest.raises(DomainError) as refused:
        await take_seat(twins["b"].id, twins["group"].id, actor="parent", settings=settings)
    assert refused.value.reason == "already_has_referral"


async def test_one_seat_is_not_enough_for_twins(twins, settings):
    await _open_seats(twins["group"], 1, settings)

    for twin in ("a", "b"):
        with pytest.raises(DomainError) as refused:
            await take_seat(twins[twin].id, twins["group"].id, actor="parent", settings=settings)
        assert refused.value.reason == "twins_need_seats"
        assert refused.value.params["count"] == 2
        assert refused.value.params["free"] == 1

    # Nothing was half-done: the seat is still free and nobody was notified of a referral.
    assert await Referral.all().count() == 0
    assert await Seat.filter(status=SeatStatus.free).count() == 1
    assert not await Notification.filter(kind="referral_issued").exists()
    # Anyone else may take it.
    referral = await take_seat(twins["c"].id, twins["group"].id, actor="parent", settings=settings)
    assert referral.application_id == twins["c"].id


async def test_a_stop_listed_twin_is_not_waited_for(twins, settings):
    twins["b"].status = ApplicationStatus.stop_listed
    await twins["b"].save(update_fields=["status"])
    await _open_seats(twins["group"], 1, settings)

    await take_seat(twins["a"].id, twins["group"].id, actor="parent", settings=settings)

    assert await Referral.all().values_list("application_id", flat=True) == [twins["a"].id]


async def test_siblings_born_months_apart_are_not_a_batch(db, settings):
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    parent = await make_parent()
    year = cohort_year()
    choice = [(kindergarten, group.language)]
    first = await make_application(
        city=city,
        choices=choice,
        applicant=parent,
        child=await make_child(parent, date(year, 1, 5)),
    )
    await make_application(
        city=city,
        choices=choice,
        applicant=parent,
        child=await make_child(parent, date(year, 3, 1)),
    )
    await _open_seats(group, 1, settings)

    assert await twin_applications(first) == []
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)
    assert referral.application_id == first.id


async def test_twins_claiming_at_once_get_one_referral_each(twins, settings):
    await _open_seats(twins["group"], 3, settings)

    async def claim(app):
        try:
            return await take_seat(app.id, twins["group"].id, actor="parent", settings=settings)
        except DomainError as exc:
            return exc

    results = await asyncio.gather(claim(twins["a"]), claim(twins["b"]))

    assert sum(isinstance(r, Referral) for r in results) == 1
    assert [r.reason for r in results if isinstance(r, DomainError)] == ["already_has_referral"]
    referred = await Referral.all().values_list("application_id", flat=True)
    assert sorted(referred) == sorted([twins["a"].id, twins["b"].id])
    assert await Seat.filter(status=SeatStatus.free).count() == 1


async def test_a_release_too_small_for_twins_passes_them_over(twins, settings):
    release = await release_seats(twins["group"].id, 1, actor="staff:1", settings=settings)

    offered = await Offer.filter(release_id=release.id).values_list("application_id", flat=True)
    assert offered == [twins["c"].id]
    # They keep their place: the next release big enough offers both of them first.
    bigger = await release_seats(twins["group"].id, 2, actor="staff:1", settings=settings)
    offered = await Offer.filter(release_id=bigger.id).values_list("application_id", flat=True)
    assert sorted(offered) == sorted([twins["a"].id, twins["b"].id])


async def test_seat_search_shows_twins_only_groups_with_seats_for_both(twins, settings):
    await _open_seats(twins["group"], 1, settings)
    assert await available_for(twins["a"].id, settings) == []
    assert [o.group_id for o in await available_for(twins["c"].id, settings)] == [twins["group"].id]

    await _open_seats(twins["group"], 1, settings)
    [option] = await available_for(twins["a"].id, settings)
    assert (option.group_id, option.free) == (twins["group"].id, 2)


async def test_twins_passed_over_by_a_small_release_replay_with_no_queue_jump(twins, settings):
    await log_imported("fixture")  # the applications enter the public log as an import
    await release_seats(twins["group"].id, 1, actor="staff:1", settings=settings)
    rows = await log.leaves(0, await log.tree_size())
    report = replay(json.loads(row["data"]) for row in rows)
    assert report.findings == [], report.lines()
    assert report.batches_passed_over == 1


async def test_the_claims_fast_check_knows_a_child_has_twins(twins):
    group, now = twins["group"], clock.now()
    for key, has_twins in (("a", True), ("b", True), ("c", False)):
        fast = await precheck_facts(twins[key].id, group.id, now)
        assert fast == await precheck_facts_orm(twins[key].id, group.id, now)
        assert fast is not None and fast.has_twins is has_twins
