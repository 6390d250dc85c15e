"""The seat rules of issue 12, as parents and staff meet them: who may take an open seat, what
the release protocol says about its priority window, who is first in line for the next offer,
what the loser of a race is told and which releases are refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from core.applications.submission import SubmissionInput, submit
from core.models import (
    AuditEntry,
    BenefitStatus,
    DocumentKind,
    GroupKind,
    Language,
    Notification,
    Offer,
    QueueType,
    Referral,
    Seat,
    SeatRelease,
    Stream,
)
from core.people.applicants import create_document
from core.platform import clock
from core.platform.errors import DomainError
from core.referrals.take import take_seat
from core.seats.availability import available_for
from core.seats.releases import release_seats
from tests.fixtures import queue as qf
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
    group = await make_group(kindergarten, language=Language.ru)
    return city, kindergarten, group


async def _release_entry(release_id: int) -> dict:
    entry = await AuditEntry.get(action="seats.released", entity_id=str(release_id))
    return dict(entry.after or {})


# --- 1. Open seats are matched by age, not by the teaching language --------------------------


async def test_a_parent_who_chose_kazakh_sees_and_takes_an_open_russian_seat_of_the_same_age(
    place, settings
):
    """The portal guide: "Выходят доступные Детские сады, в которых есть свободные места,
    подходящие по возрасту Вашего ребенка" (indigo-overview-and-portal-guide.ru.txt:440); the
    memo: "Система покажет все детские сады, в которых есть группы, подходящие вашему ребенку по
    возрасту" (parent-memo-egov-and-indigo.ru.txt:72); DOMAIN.md: "any eligible active
    application of a matching birth year and queue type in the city may take one". The language
    orders a kindergarten's own queue (the priority offers), it does not close open seats."""
    city, _kindergarten, group = place
    other_kg = await make_kindergarten(city, 2)
    kazakh = await make_application(city=city, choices=[(other_kg, Language.kk)])
    release = await release_seats(group.id, 1, actor="staff:1", settings=settings)  # nobody first

    [option] = await available_for(kazakh.id, settings)
    assert (option.group_id, option.via, option.language) == (group.id, "general", "ru")
    told = await Notification.filter(kind="seat_offered").values_list("params", flat=True)
    assert [p["application_id"] for p in told if p["release_id"] == release.id] == [kazakh.id]

    referral = await take_seat(kazakh.id, group.id, actor="parent", settings=settings)
    assert referral.group_id == group.id


async def test_an_open_seat_in_another_city_is_not_offered(place, settings):
    _city, _kindergarten, group = place
    elsewhere = await make_city("almaty")
    far_kg = await make_kindergarten(elsewhere, 3)
    far = await make_application(city=elsewhere, choices=[(far_kg, Language.ru)])
    await release_seats(group.id, 1, actor="staff:1", settings=settings)

    assert await available_for(far.id, settings) == []
    with pytest.raises(DomainError) as refused:
        await take_seat(far.id, group.id, actor="parent", settings=settings)
    assert (refused.value.reason, refused.value.params.get("why")) == (
        "not_eligible",
        "city_mismatch",
    )


# --- 2. The release protocol's priority window ------------------------------------------------


async def test_the_release_protocol_shows_no_priority_window_for_seats_open_to_all_at_once(
    place, settings
):
    """Nobody in the kindergarten's queue: the seats open to general access at once, and the
    protocol entry's `priority_end_at` is the release moment (not one day later)."""
    _city, _kindergarten, group = place
    release = await release_seats(group.id, 2, actor="staff:1", settings=settings)

    after = await _release_entry(release.id)
    released_at = datetime.fromisoformat(after["released_at"])
    priority_end = datetime.fromisoformat(after["priority_end_at"])
    assert priority_end == released_at == release.priority_end_at
    entry = await AuditEntry.get(action="seats.released", entity_id=str(release.id))
    assert priority_end <= entry.at  # the protocol reader's "no priority window"
    assert after["general_access_at_once"] == 2


async def test_the_release_protocol_shows_the_window_when_parents_were_first_in_line(
    place, settings
):
    city, kindergarten, group = place
    await make_queue(city, kindergarten, 1)
    release = await release_seats(group.id, 2, actor="staff:1", settings=settings)

    after = await _release_entry(release.id)
    released_at = datetime.fromisoformat(after["released_at"])
    assert datetime.fromisoformat(after["priority_end_at"]) == released_at + timedelta(days=1)
    assert after["general_access_at_once"] == 1


async def test_a_release_without_window_offers_nobody_a_priority_seat(place, settings):
    city, kindergarten, group = place
    [first] = await make_queue(city, kindergarten, 1)
    release = await release_seats(
        group.id, 1, actor="staff:1", settings=settings, window=timedelta(0)
    )

    assert await Offer.filter(release_id=release.id).count() == 0
    after = await _release_entry(release.id)
    assert after["priority_end_at"] == after["released_at"]
    [option] = await available_for(first.id, settings)
    assert option.via == "general"


# --- 3. One application is first in line for one offer of a group at a time ------------------


async def test_two_releases_back_to_back_offer_the_second_seat_to_the_next_in_line(place, settings):
    city, kindergarten, group = place
    first, second, third = await make_queue(city, kindergarten, 3)

    one = await release_seats(group.id, 1, actor="staff:1", settings=settings)
    two = await release_seats(group.id, 2, actor="staff:1", settings=settings)

    assert await Offer.filter(release_id=one.id).values_list("application_id", flat=True) == [
        first.id
    ]
    assert sorted(
        await Offer.filter(release_id=two.id).values_list("application_id", flat=True)
    ) == [second.id, third.id]
    # After the first window the first in line may be first again for a new release.
    with clock.travel(timedelta(days=1, minutes=1)):
        three = await release_seats(group.id, 1, actor="staff:1", settings=settings)
    assert await Offer.filter(release_id=three.id).values_list("application_id", flat=True) == [
        first.id
    ]


async def test_two_releases_at_the_same_moment_offer_their_seats_to_two_parents(place, settings):
    city, kindergarten, group = place
    first, second, _third = await make_queue(city, kindergarten, 3)

    await asyncio.gather(
        *(release_seats(group.id, 1, actor=f"staff:{n}", settings=settings) for n in (1, 2))
    )

    offered = await Offer.all().values_list("application_id", flat=True)
    assert sorted(offered) == [first.id, second.id]


# --- 6. The loser of a race ---------------------------------------------------------------------


async def test_the_parent_who_loses_the_last_open_seat_is_told_another_parent_took_it(
    place, settings
):
    """Security review #12: one open seat and one seat reserved for the first in line; the
    parent who loses the race was told the seat was reserved for others."""
    city, kindergarten, group = place
    await make_queue(city, kindergarten, 1)  # the addressee of the reserved seat
    await release_seats(group.id, 2, actor="staff:1", settings=settings)
    other_kg = await make_kindergarten(city, 2)
    racers = await make_queue(city, other_kg, 2)

    async def claim(app):
        try:
            return await take_seat(app.id, group.id, actor="parent", settings=settings)
        except DomainError as exc:
            return exc

    outcomes = await asyncio.gather(*(claim(app) for app in racers))

    assert sorted(type(o).__name__ for o in outcomes) == ["DomainError", "Referral"]
    [lost] = [o for o in outcomes if isinstance(o, DomainError)]
    assert lost.reason == "no_free_seat"
    # A parent pressing the stale list a moment later hears the same.
    late = await make_application(city=city, choices=[(other_kg, Language.ru)])
    with pytest.raises(DomainError) as refused:
        await take_seat(late.id, group.id, actor="parent", settings=settings)
    assert refused.value.reason == "no_free_seat"
    assert await Referral.all().count() == 1


# --- 7. Bounded releases ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "window", "reason"),
    [
        (1_000_000, None, "invalid_seat_count"),
        (1001, None, "invalid_seat_count"),
        (0, None, "invalid_seat_count"),
        (1, timedelta(days=-1), "invalid_priority_window"),
        (1, timedelta(days=31), "invalid_priority_window"),
        (1, timedelta(days=999_999_999), "invalid_priority_window"),
    ],
)
async def test_a_forged_release_is_refused_and_creates_nothing(
    place, settings, count, window, reason
):
    _city, _kindergarten, group = place
    with pytest.raises(DomainError) as refused:
        await release_seats(group.id, count, actor="staff:1", settings=settings, window=window)
    assert refused.value.reason == reason
    assert await SeatRelease.all().count() == 0
    assert await Seat.all().count() == 0


async def test_the_largest_allowed_release_is_accepted(place, settings):
    _city, _kindergarten, group = place
    group.capacity = 1000  # free seats never exceed capacity
    await group.save()
    await release_seats(
        group.id, 1000, actor="staff:1", settings=settings, window=timedelta(days=30)
    )
    assert await Seat.filter(group_id=group.id).count() == 1000


# --- 5. Sanatorium groups: the general queue, benefit 9 first ---------------------------------


async def test_a_sanatorium_seat_goes_first_to_a_child_with_special_educational_needs(
    place, settings
):
    """queue-application-walkthrough.ru.txt:332: "9 Дети с особыми образовательными
    потребностями (для зачисления в инклюзивные и санаторные группы)", a first-priority
    benefit of the general queue: its holders come first for sanatorium seats, then the
    general queue; the correctional queue is for correctional groups."""
    city, kindergarten, _group = place
    sanatorium = await make_group(kindergarten, kind=GroupKind.sanatorium, name="Санаторная")
    choice = [(kindergarten, Language.ru)]
    start = clock.now() - timedelta(days=500)
    general = await make_application(city=city, choices=choice, submitted_at=start)
    correctional = await make_application(
        city=city, choices=choice, queue_type=QueueType.correctional, submitted_at=start
    )
    benefit_9 = await make_application(
        city=city,
        choices=choice,
        stream=Stream.first_priority,
        benefit_status=BenefitStatus.confirmed,
        submitted_at=start + timedelta(days=100),
    )
    await benefit_9.filter(id=benefit_9.id).update(benefit_category=9)

    release = await release_seats(sanatorium.id, 2, actor="staff:1", settings=settings)

    offered = await Offer.filter(release_id=release.id).order_by("id")
    assert [o.application_id for o in offered] == [benefit_9.id, general.id]
    assert correctional.id not in [o.application_id for o in offered]


# --- 5. The correctional queue chooses kindergartens that take it -----------------------------


async def test_a_correctional_application_cannot_choose_a_kindergarten_without_special_groups(
    place, settings
):
    """application-rules.ru.txt:33: "Коррекционная очередь предназначена для зачисления в
    специальные дошкольные организации образования для детей с особыми потребностями": a
    kindergarten without correctional groups (a sanatorium group takes the general queue) never
    offers this queue a seat."""
    city, ordinary_kg, _group = place
    await make_group(ordinary_kg, kind=GroupKind.sanatorium, name="Санаторная")
    special_kg = await make_kindergarten(city, 2)
    await make_group(special_kg, kind=GroupKind.correctional, name="Логопедическая")
    parent = await qf.make_parent(telegram_user_id=777)
    child = await qf.make_child(parent, date(cohort_year(), 6, 1))
    pmpk = await create_document(parent, DocumentKind.pmpk, "f-pmpk")
    data = SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=city.id,
        queue_type=QueueType.correctional,
        choices=[(special_kg.id, Language.ru), (ordinary_kg.id, Language.ru)],
        legal_representative=True,
        pmpk_document_id=pmpk.id,
    )
    with pytest.raises(DomainError) as refused:
        await submit(data, settings=settings, actor="parent")
    assert refused.value.reason == "no_correctional_group"
    assert refused.value.params["kindergarten_id"] == ordinary_kg.id

    app = await submit(
        replace(data, choices=[(special_kg.id, Language.ru)]), settings=settings, actor="parent"
    )
    assert app.queue_type == QueueType.correctional
