"""Taking a seat and the life of a referral: races, deadlines, extension, decline, expiry."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from core import audit
from core.applications.lifecycle import restore_due
from core.calendar.working_days import add_working_days
from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    ArchiveReason,
    BenefitStatus,
    GroupKind,
    Language,
    Notification,
    Offer,
    OfferStatus,
    QueueType,
    Referral,
    ReferralMode,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
    Stream,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import OfferTimeout
from core.referrals.benefits import confirm_benefit
from core.referrals.documents import documents_for
from core.referrals.lifecycle import decline_referral, enroll, expire_due, extend_referral, revoke
from core.referrals.take import take_seat
from core.seats.releases import release_seats
from core.views.cabinet import referrals_of
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
    make_queue,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def place(db):
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    return city, kindergarten, group


async def _general_access_seats(group, n, settings):
    """Seats nobody holds a priority on (the kindergarten queue is empty of eligible)."""
    return await release_seats(group.id, n, actor="staff:1", settings=settings)


async def test_the_addressee_takes_an_offered_seat(place, settings):
    city, kindergarten, group = place
    first, second = await make_queue(city, kindergarten, 2)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)

    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)

    assert referral.status == ReferralStatus.awaiting_enrollment
    assert referral.number.startswith(f"NP-{clock.now().astimezone(settings.tz).year}-")
    assert referral.expires_at == add_working_days(referral.issued_at, 5, settings.tz)
    assert (await Seat.get(id=referral.seat_id)).status == SeatStatus.taken
    assert (await Offer.get(application_id=first.id)).status == OfferStatus.taken
    sent = await Notification.get(kind="referral_issued")
    assert sent.applicant_id == first.applicant_id
    assert sent.params["number"] == referral.number
    assert sent.params["kindergarten_ru"] == kindergarten.name_ru
    assert sent.params["expires_at"] == referral.expires_at.isoformat()
    assert (await audit.verify_chain()).ok
    # The second in the queue holds no offer: the seat is someone else's during the window.
    with pytest.raises(DomainError) as refused:
        await take_seat(second.id, group.id, actor="parent", settings=settings)
    assert refused.value.reason == "no_free_seat"


async def test_a_seat_in_its_priority_window_is_only_for_the_addressees(place, settings):
    city, kindergarten, group = place
    [addressee] = await make_queue(city, kindergarten, 1)
    other_kg = await make_kindergarten(city, 2)
    outsider = await make_application(city=city, choices=[(other_kg, Language.ru)])
    await release_seats(group.id, 1, actor="staff:1", settings=settings)

    with pytest.raises(DomainError) as refused:
        await take_seat(outsider.id, group.id, actor="parent", settings=settings)
    assert (refused.value.reason, refused.value.params) == (
        "not_eligible",
        {"why": "priority_window"},
    )

    with clock.travel(timedelta(days=1, minutes=1)):  # the window ended: general access
        referral = await take_seat(outsider.id, group.id, actor="parent", settings=settings)
    assert referral.application_id == outsider.id
    assert addressee.status == ApplicationStatus.active


async def test_refusals_say_why(place, settings):
    city, kindergarten, group = place
    await _general_access_seats(group, 3, settings)
    young_group = await make_group(kindergarten, birth_year=cohort_year(1), name="Ясельная")
    await _general_access_seats(young_group, 1, settings)
    old_group = await make_group(kindergarten, birth_year=cohort_year(6), name="Предшкольная")
    await _general_access_seats(old_group, 1, settings)
    special = await make_group(kindergarten, kind=GroupKind.correctional, name="Логопедическая")
    await _general_access_seats(special, 1, settings)
    choice = [(kindergarten, Language.ru)]

    async def why(app, grp):
        with pytest.raises(DomainError) as refused:
            await take_seat(app.id, grp.id, actor="parent", settings=settings)
        return refused.value.reason, refused.value.params.get("why")

    young = await make_application(city=city, choices=choice, born=date(cohort_year(1), 1, 1))
    assert await why(young, young_group) == ("not_eligible", "child_too_young")
    six = await make_application(city=city, choices=choice, born=date(cohort_year(6), 12, 31))
    assert await why(six, old_group) == ("not_eligible", "child_turns_six")
    stopped = await make_application(
        city=city, choices=choice, status=ApplicationStatus.stop_listed
    )
    assert await why(stopped, group) == ("not_eligible", "stop_listed")
    later = await make_application(
        city=city,
        choices=choice,
        referral_mode=ReferralMode.from_date,
        referral_from=clock.now().date() + timedelta(days=30),
    )
    assert await why(later, group) == ("not_eligible", "mode_from_date")
    ordinary = await make_application(city=city, choices=choice)
    assert await why(ordinary, special) == ("not_eligible", "group_kind_mismatch")
    assert await why(ordinary, young_group) == ("not_eligible", "birth_year_mismatch")
    # Open seats are matched by age, whatever the language chosen (tests/test_seat_rules.py).
    kazakh = await make_application(city=city, choices=[(kindergarten, Language.kk)])
    assert (await take_seat(kazakh.id, group.id, actor="parent", settings=settings)).group_id

    await take_seat(ordinary.id, group.id, actor="parent", settings=settings)
    assert await why(ordinary, group) == ("already_has_referral", None)
    # The same child's correctional application shares the limit of one live referral.
    await ordinary.fetch_related("child")
    correctional = await make_application(
        city=city,
        choices=choice,
        applicant=await ordinary.applicant,
        child=ordinary.child,
        queue_type=QueueType.correctional,
    )
    assert await why(correctional, special) == ("already_has_referral", None)


async def test_two_hundred_concurrent_claims_for_five_seats(place, settings):
    city, _kindergarten, group = place
    await _general_access_seats(group, 5, settings)
    other_kg = await make_kindergarten(city, 2)
    apps = await make_queue(city, other_kg, 200)

    async def claim(app):
        try:
            return await take_seat(app.id, group.id, actor=f"parent:{app.id}", settings=settings)
        except DomainError as exc:
            return exc

    results = await asyncio.gather(*(claim(app) for app in apps))

    winners = [r for r in results if isinstance(r, Referral)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 5 and len(losers) == 195
    assert {loser.reason for loser in losers} == {"no_free_seat"}
    await _assert_consistent(expected=5)


async def test_claims_from_two_processes_never_share_a_seat(place, settings, pg_url):
    city, _kindergarten, group = place
    await _general_access_seats(group, 5, settings)
    other_kg = await make_kindergarten(city, 2)
    apps = await make_queue(city, other_kg, 200)
    # The same child claims from both processes too (its id is in both halves).
    halves = [[a.id for a in apps[:100]], [a.id for a in apps[100:]] + [apps[0].id]]
    start_at = time.time() + 3

    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fixtures.seats",
            pg_url,
            str(group.id),
            ",".join(map(str, half)),
            str(start_at),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for half in halves
    ]
    outputs = [json.loads((await p.communicate())[0]) for p in processes]
    assert [p.returncode for p in processes] == [0, 0]

    outcomes = outputs[0] + outputs[1]
    assert outcomes.count("ok") == 5
    assert set(outcomes) <= {"ok", "no_free_seat", "already_has_referral"}
    await _assert_consistent(expected=5)


async def test_a_rush_from_two_processes_leaves_reserved_seats_to_their_addressees(
    place, settings, pg_url
):
    city, kindergarten, group = place
    addressees = await make_queue(city, kindergarten, 4)  # the kindergarten's own queue
    other_kg = await make_kindergarten(city, 2)
    others = await make_queue(city, other_kg, 120)
    await release_seats(group.id, 7, actor="staff:1", settings=settings)  # 4 reserved, 3 general
    # Every addressee claims from both processes, among the others' claims.
    ids = [a.id for a in others]
    halves = [ids[::2] + [a.id for a in addressees], [a.id for a in addressees] + ids[1::2]]
    start_at = time.time() + 3

    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fixtures.seats",
            pg_url,
            str(group.id),
            ",".join(map(str, half)),
            str(start_at),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for half in halves
    ]
    outputs = [json.loads((await p.communicate())[0]) for p in processes]
    assert [p.returncode for p in processes] == [0, 0]

    outcomes = outputs[0] + outputs[1]
    assert outcomes.count("ok") == 7
    assert set(outcomes) <= {"ok", "no_free_seat", "already_has_referral", "not_eligible"}
    await _assert_consistent(expected=7)
    offered = {(o.release_id, o.application_id) for o in await Offer.all()}
    by_seat = {r.seat_id: r.application_id for r in await Referral.all()}
    for seat in await Seat.all():
        if seat.priority_end_at > seat.taken_at:  # taken in its priority window
            assert (seat.release_id, by_seat[seat.id]) in offered
    assert {a.id for a in addressees} <= set(by_seat.values())


async def test_one_child_claiming_twice_at_once_gets_one_referral(place, settings):
    city, kindergarten, group = place
    await _general_access_seats(group, 3, settings)
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)])

    async def claim():
        try:
            return await take_seat(app.id, group.id, actor="parent", settings=settings)
        except DomainError as exc:
            return exc

    results = await asyncio.gather(*(claim() for _ in range(10)))

    assert sum(isinstance(r, Referral) for r in results) == 1
    assert {r.reason for r in results if isinstance(r, DomainError)} == {"already_has_referral"}
    assert await Seat.filter(status=SeatStatus.free).count() == 2


async def _assert_consistent(expected: int) -> None:
    referrals = await Referral.all()
    assert len(referrals) == expected
    assert len({r.seat_id for r in referrals}) == expected
    children = await Application.filter(id__in=[r.application_id for r in referrals]).values_list(
        "child_id", flat=True
    )
    assert len(set(children)) == expected
    assert await Seat.filter(status=SeatStatus.taken).count() == expected
    assert await Seat.filter(status=SeatStatus.free).count() == 0
    assert (await audit.verify_chain()).ok


async def test_an_unconfirmed_benefit_waits_for_staff(place, settings):
    city, kindergarten, group = place
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        stream=Stream.extraordinary,
        benefit_status=BenefitStatus.pending,
    )
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    assert referral.status == ReferralStatus.awaiting_benefit_confirmation
    assert referral.expires_at == add_working_days(referral.issued_at, 5, settings.tz)

    await confirm_benefit(app.id, True, actor="staff:1", settings=settings)

    referral = await Referral.get(id=referral.id)
    assert referral.status == ReferralStatus.awaiting_enrollment
    assert (await Application.get(id=app.id)).benefit_status == BenefitStatus.confirmed
    assert await Notification.filter(
        kind="benefit_confirmed", applicant_id=app.applicant_id
    ).exists()


async def test_a_rejected_benefit_annuls_the_referral_and_stop_lists(place, settings):
    city, kindergarten, group = place
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        stream=Stream.extraordinary,
        benefit_status=BenefitStatus.pending,
    )
    [next_in_line] = await make_queue(city, kindergarten, 1)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)

    await confirm_benefit(app.id, False, "document unreadable", actor="staff:1", settings=settings)

    app = await Application.get(id=app.id)
    assert (app.benefit_category, app.benefit_status, app.stream) == (
        None,
        BenefitStatus.rejected,
        Stream.general,
    )
    assert app.status == ApplicationStatus.stop_listed
    assert app.stop_listed_until is not None
    choice = await ApplicationChoice.get(application_id=app.id)
    assert (choice.stream, choice.active) == (Stream.general, False)
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.annulled
    # The seat went back: a new release offers it to the next in line.
    assert await Offer.filter(application_id=next_in_line.id, status=OfferStatus.open).exists()
    assert await Notification.filter(kind="benefit_rejected").exists()


async def test_extend_once_by_thirty_days(place, settings):
    city, kindergarten, group = place
    [app] = await make_queue(city, kindergarten, 1)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    stranger = await make_parent()

    with pytest.raises(DomainError) as refused:
        await extend_referral(referral.id, stranger.id, actor="x", settings=settings)
    assert refused.value.reason == "referral_not_found"

    extended = await extend_referral(referral.id, app.applicant_id, actor="p", settings=settings)
    assert extended.expires_at == referral.expires_at + timedelta(days=30)
    with pytest.raises(DomainError) as refused:
        await extend_referral(referral.id, app.applicant_id, actor="p", settings=settings)
    assert refused.value.reason == "referral_already_extended"
    [card] = await referrals_of(app.applicant_id)
    assert card.extended and not card.can_extend and card.live
    assert "birth_certificate" in documents_for(card.queue_type)


async def test_a_declined_referral_returns_the_seat_without_stop_list(place, settings):
    city, kindergarten, group = place
    first, second = await make_queue(city, kindergarten, 2)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)

    await decline_referral(referral.id, first.applicant_id, actor="parent", settings=settings)

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.declined
    assert (await Application.get(id=first.id)).status == ApplicationStatus.active
    assert await SeatRelease.all().count() == 2
    # The next in line (not the one who declined) is offered the returned seat.
    offers = await Offer.filter(status=OfferStatus.open).values_list("application_id", flat=True)
    assert offers == [second.id]
    again = await take_seat(second.id, group.id, actor="parent", settings=settings)
    assert again.seat_id != referral.seat_id


async def test_an_unused_referral_expires_and_the_application_comes_back(place, settings):
    city, kindergarten, group = place
    first, second = await make_queue(city, kindergarten, 2)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)
    until_expiry = referral.expires_at - clock.now()

    with clock.travel(until_expiry - timedelta(hours=2)):
        assert await expire_due(settings) == 0
        assert await expire_due(settings) == 0
    assert await Notification.filter(kind="referral_expiring").count() == 1

    with clock.travel(until_expiry + timedelta(minutes=1)):
        assert await expire_due(settings) == 1
        assert await expire_due(settings) == 0
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.expired
    app = await Application.get(id=first.id)
    assert app.status == ApplicationStatus.stop_listed
    assert await Notification.filter(kind="referral_expired").count() == 1
    assert await Offer.filter(application_id=second.id, status=OfferStatus.open).exists()

    with clock.travel(until_expiry + timedelta(days=9)):
        assert await restore_due(settings) == 0
    with clock.travel(until_expiry + timedelta(days=10, minutes=2)):
        assert await restore_due(settings) == 1
    app = await Application.get(id=first.id)
    assert app.status == ApplicationStatus.active
    assert app.submitted_at == first.submitted_at  # back at its original time
    assert (await ApplicationChoice.get(application_id=app.id)).active


async def test_enrolment_archives_the_application(place, settings):
    city, kindergarten, group = place
    [app] = await make_queue(city, kindergarten, 1)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)

    await enroll(referral.id, actor="kindergarten:1")

    app = await Application.get(id=app.id)
    assert (app.status, app.archive_reason) == (ApplicationStatus.archived, ArchiveReason.enrolled)
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
    with pytest.raises(DomainError):
        await revoke(referral.id, "mistake", actor="staff:1", settings=settings)


async def test_staff_revoke_returns_the_seat(place, settings):
    city, kindergarten, group = place
    await _general_access_seats(group, 1, settings)  # nobody queued yet: general access
    [app] = await make_queue(city, kindergarten, 1)
    other = await make_application(city=city, choices=[(kindergarten, Language.ru)])
    referral = await take_seat(other.id, group.id, actor="parent", settings=settings)

    await revoke(referral.id, "wrong group", actor="staff:1", settings=settings)

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.revoked
    assert (await Application.get(id=other.id)).status == ApplicationStatus.active
    assert await Seat.filter(group_id=group.id, status=SeatStatus.free).count() == 1
    assert app.id in await Offer.filter(status=OfferStatus.open).values_list(
        "application_id", flat=True
    )


async def test_an_addressee_who_does_not_act_keeps_its_place(place, settings):
    city, kindergarten, group = place
    keeper, strict = await make_queue(city, kindergarten, 2)
    await release_seats(group.id, 2, actor="staff:1", settings=settings)
    stop_list = settings.model_copy(update={"on_offer_timeout": OfferTimeout.stop_list})

    with clock.travel(timedelta(days=1, minutes=1)):
        await expire_due(settings)
    assert await Offer.filter(status=OfferStatus.lapsed).count() == 2
    assert (await Application.get(id=keeper.id)).status == ApplicationStatus.active

    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    with clock.travel(timedelta(days=1, minutes=1)):
        await expire_due(stop_list)
    assert (await Application.get(id=keeper.id)).status == ApplicationStatus.stop_listed
    assert (await Application.get(id=strict.id)).status == ApplicationStatus.active
