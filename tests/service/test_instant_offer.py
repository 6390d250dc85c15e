"""A seat already free in a chosen kindergarten is offered at the moment of submission."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.applications.submission import SubmissionInput, submit
from core.models import Language, Notification, Offer, OfferStatus, QueueType, ReferralMode
from core.referrals.take import take_seat
from core.seats.releases import release_seats
from tests.fixtures import queue as fq
from tests.fixtures import seats as fs


@pytest.fixture
async def place(db):
    city = await fq.make_city()
    kg1 = await fq.make_kindergarten(city, 1, languages="kk,ru")
    kg2 = await fq.make_kindergarten(city, 2, languages="kk,ru")
    year = fs.cohort_year()
    return {
        "city": city,
        "kg1": kg1,
        "kg2": kg2,
        "year": year,
        "ru1": await fs.make_group(kg1, birth_year=year, language=Language.ru),
        "kk1": await fs.make_group(kg1, birth_year=year, language=Language.kk),
        "ru2": await fs.make_group(kg2, birth_year=year, language=Language.ru),
    }


async def _submit(place, settings, *, tg: int, **overrides):
    parent = await fq.make_parent(telegram_user_id=tg)
    child = await fq.make_child(parent, date(place["year"], 6, 1))
    data = SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=place["city"].id,
        queue_type=QueueType.general,
        choices=[(place["kg1"].id, Language.ru), (place["kg2"].id, Language.ru)],
        legal_representative=True,
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return await submit(data, settings=settings, actor=f"applicant:{tg}")


async def _offers(app):
    return await Notification.filter(
        applicant_id=app.applicant_id, kind="seat_offered"
    ).values_list("params", flat=True)


async def _general_access(group, n, settings):
    return await release_seats(group.id, n, actor="staff:1", settings=settings)


async def test_a_free_seat_is_offered_at_once_and_can_be_taken(place, settings):
    # Nobody queues for kindergarten 2 yet: its released seat is in general access.
    release = await _general_access(place["ru2"], 1, settings)

    app = await _submit(place, settings, tg=701)

    [offer] = await _offers(app)
    assert offer["release_id"] == release.id and offer["application_id"] == app.id
    assert offer["application_number"] == app.number
    assert offer["kindergarten_ru"] == place["kg2"].name_ru
    referral = await take_seat(app.id, place["ru2"].id, actor="parent", settings=settings)
    assert referral.kindergarten_id == place["kg2"].id


async def test_the_first_chosen_kindergarten_with_a_seat_is_offered(place, settings):
    await _general_access(place["ru2"], 1, settings)
    first_choice = await _general_access(place["ru1"], 1, settings)

    app = await _submit(place, settings, tg=702)

    assert [o["release_id"] for o in await _offers(app)] == [first_choice.id]


async def test_no_offer_for_from_date_mode_or_a_group_that_does_not_match(place, settings):
    await _general_access(place["kk1"], 1, settings)  # another teaching language
    other_year = await fs.make_group(place["kg2"], birth_year=place["year"] - 1)
    await _general_access(other_year, 1, settings)
    kg3 = await fq.make_kindergarten(place["city"], 3)
    await _general_access(await fs.make_group(kg3, birth_year=place["year"]), 1, settings)

    app = await _submit(place, settings, tg=703)
    assert await _offers(app) == []

    await _general_access(place["ru1"], 1, settings)
    later = await _submit(
        place,
        settings,
        tg=704,
        referral_mode=ReferralMode.from_date,
        referral_from=date.today() + timedelta(days=60),
    )
    assert await _offers(later) == []


async def test_a_seat_held_for_an_addressee_is_not_offered_until_nobody_holds_it(place, settings):
    waiting = await fs.make_application(
        city=place["city"],
        choices=[(place["kg1"], Language.ru), (place["kg2"], Language.ru)],
    )
    # A seat in kindergarten 1: the queue's first application holds it for a day.
    held = await release_seats(place["ru1"].id, 1, actor="staff:1", settings=settings)

    app = await _submit(place, settings, tg=705)
    assert await _offers(app) == []

    # The addressee takes a seat in kindergarten 2 instead; its offer in kindergarten 1
    # lapses, and the seat nobody holds any more is offered to the next submission.
    await _general_access(place["ru2"], 1, settings)
    await take_seat(waiting.id, place["ru2"].id, actor="parent", settings=settings)
    offer = await Offer.get(application_id=waiting.id, release_id=held.id)
    assert offer.status == OfferStatus.lapsed
    later = await _submit(place, settings, tg=706)
    [offer] = await _offers(later)
    assert offer["kindergarten_ru"] == place["kg1"].name_ru
    await take_seat(later.id, place["ru1"].id, actor="parent", settings=settings)
