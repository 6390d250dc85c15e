"""One eligibility rule: the claim's one-statement precheck reads the same facts as the ORM rule,
and every seat the parent is shown is one the claim then gives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.models import (
    ApplicationStatus,
    GroupKind,
    Language,
    Offer,
    QueueType,
    Referral,
    ReferralMode,
    ReferralStatus,
    Seat,
    SeatRelease,
)
from core.platform import clock
from core.referrals.take import take_seat
from core.seats.availability import available_for, precheck_facts, precheck_facts_orm
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


@dataclass(frozen=True)
class Case:
    status: ApplicationStatus
    mode: ReferralMode
    from_days: int | None  # referral_from relative to today (None: not set)
    age: int
    queue_type: QueueType
    group_kind: GroupKind
    group_age: int
    group_exists: bool
    live_referral: bool
    offered_seat: bool
    general_seat: bool
    others_seat: bool


CASES = st.builds(
    Case,
    status=st.sampled_from(list(ApplicationStatus)),
    mode=st.sampled_from(list(ReferralMode)),
    from_days=st.one_of(st.none(), st.integers(-30, 30)),
    age=st.integers(0, 7),
    queue_type=st.sampled_from(list(QueueType)),
    group_kind=st.sampled_from(list(GroupKind)),
    group_age=st.integers(1, 6),
    group_exists=st.booleans(),
    live_referral=st.booleans(),
    offered_seat=st.booleans(),
    general_seat=st.booleans(),
    others_seat=st.booleans(),
)


def _generated_cases(n: int) -> list[Case]:
    cases: list[Case] = []

    @hsettings(max_examples=n, database=None, derandomize=True)
    @given(CASES)
    def collect(case: Case) -> None:
        cases.append(case)

    collect()
    return cases


async def _build(case: Case) -> tuple[int, int]:
    """The rows of one case: returns (application id, group id)."""
    city = await make_city(f"c{id(case)}")
    kindergarten = await make_kindergarten(city)
    group = await make_group(
        kindergarten, birth_year=cohort_year(case.group_age), kind=case.group_kind
    )
    parent = await make_parent()
    today = clock.now().date()
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        child=await make_child(parent, date(cohort_year(case.age), 6, 1)),
        queue_type=case.queue_type,
        status=case.status,
        referral_mode=case.mode,
        referral_from=None if case.from_days is None else today + timedelta(days=case.from_days),
    )
    now = clock.now()
    release = await SeatRelease.create(
        group_id=group.id,
        kindergarten_id=kindergarten.id,
        seats=3,
        priority_end_at=now + timedelta(days=3),
        released_by="test",
    )
    if case.offered_seat:
        await Seat.create(
            release_id=release.id, group_id=group.id, priority_end_at=now + timedelta(days=3)
        )
        await Offer.create(release_id=release.id, application_id=app.id)
    if case.general_seat:
        await Seat.create(
            release_id=release.id, group_id=group.id, priority_end_at=now - timedelta(hours=1)
        )
    if case.others_seat:
        other = await SeatRelease.create(
            group_id=group.id,
            kindergarten_id=kindergarten.id,
            seats=1,
            priority_end_at=now + timedelta(days=3),
            released_by="test",
        )
        await Seat.create(
            release_id=other.id, group_id=group.id, priority_end_at=now + timedelta(days=3)
        )
    if case.live_referral:
        seat = await Seat.create(
            release_id=release.id, group_id=group.id, priority_end_at=now, status="taken"
        )
        await Referral.create(
            number=f"NP-T-{app.id}",
            application_id=app.id,
            seat_id=seat.id,
            group_id=group.id,
            kindergarten_id=kindergarten.id,
            status=ReferralStatus.awaiting_enrollment,
            issued_at=now,
            expires_at=now + timedelta(days=5),
        )
    return app.id, group.id if case.group_exists else group.id + 100_000


async def test_the_fast_precheck_reads_what_the_orm_rule_reads(db, settings):
    for case in _generated_cases(60):
        application_id, group_id = await _build(case)
        now = clock.now()

        fast = await precheck_facts(application_id, group_id, now)
        reference = await precheck_facts_orm(application_id, group_id, now)

        assert fast == reference, case
    assert await precheck_facts(10**9, 1, clock.now()) is None


async def test_every_seat_the_parent_is_shown_is_given_by_the_claim(db, settings):
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    ru = await make_group(kindergarten, name="ru")
    small = await make_group(kindergarten, name="one seat")
    kk = await make_group(kindergarten, name="kk", language=Language.kk)
    older = await make_group(kindergarten, name="older", birth_year=cohort_year(4))
    parent = await make_parent()
    year = cohort_year()
    choice = [(kindergarten, Language.ru)]
    twin_a = await make_application(
        city=city,
        choices=choice,
        applicant=parent,
        child=await make_child(parent, date(year, 3, 30)),
    )
    twin_b = await make_application(
        city=city,
        choices=choice,
        applicant=parent,
        child=await make_child(parent, date(year, 3, 31)),
    )
    single = await make_application(city=city, choices=choice)
    for group, seats in ((ru, 2), (small, 1), (kk, 2), (older, 2)):
        await release_seats(group.id, seats, actor="staff:1", settings=settings)
    # Priority windows over: every seat is in general access.
    await Seat.all().update(priority_end_at=clock.now() - timedelta(minutes=1))

    shown = {}
    for app in (twin_a, twin_b, single):
        shown[app.id] = [option.group_id for option in await available_for(app.id, settings)]
        for group_id in shown[app.id]:
            referral = await take_seat(app.id, group_id, actor="parent", settings=settings)

            assert referral.group_id == group_id
            # Undo it, so the next option is tried from the same state.
            await Referral.all().delete()
            await Seat.all().update(status="free", taken_at=None)

    # Any teaching language (open seats are matched by age: tests/test_seat_rules.py).
    assert sorted(shown[twin_a.id]) == sorted(shown[twin_b.id]) == sorted([ru.id, kk.id])
    assert sorted(shown[single.id]) == sorted([ru.id, small.id, kk.id])
