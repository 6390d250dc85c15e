"""Lifecycle rules as parents and staff see them (domain audit rules 37, 39, 44, 46; security
review finding #1, the questionnaire part): the annual cleaning spares first-year applications,
an archived application is never revived by its referral, an expired referral cannot be used even
before the timer runs, and the questionnaire is stored only while the campaign is open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.notifications.render import render
from core.applications.extension import annual_cleaning, save_answers
from core.applications.lifecycle import remove_aged_out, restore_due
from core.models import (
    Application,
    ApplicationStatus,
    ArchiveReason,
    BenefitStatus,
    ExtensionAnswers,
    Language,
    Notification,
    Referral,
    ReferralStatus,
    SeatRelease,
    Stream,
)
from core.notifications.kinds import load
from core.platform import clock
from core.platform.errors import DomainError
from core.referrals.benefits import confirm_benefit
from core.referrals.lifecycle import enroll, expire_due, extend_referral
from core.referrals.take import take_seat
from core.seats.releases import release_seats
from tests.fixtures.seats import (
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
    make_queue,
)

# A child who is 5 this year and turns 6 early next January: a referral issued now can still
# be live on the day the child ages out (scenario S3 of the domain audit).
YEAR = clock.now().year
BORN = date(YEAR - 5, 1, 3)
SIXTH_BIRTHDAY = date(YEAR + 1, 1, 3)


@pytest.fixture
async def place(db):
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten, birth_year=BORN.year)
    return city, kindergarten, group


def _travel_to(day: date):
    """Move the service clock to noon (Almaty) of `day`."""
    target = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
    return clock.travel(target - clock.now())


async def _text_of(applicant_id: int, kind: str, settings) -> str:
    row = await Notification.get(applicant_id=applicant_id, kind=kind)
    return render(load(row.kind, row.params), "ru", tz=settings.tz).text


# --- Rule 44: the annual cleaning -------------------------------------------------------------


async def test_an_application_submitted_during_the_campaign_is_not_stop_listed_in_its_first_year(
    place, settings
):
    """Submitted on 15 September (valid until next 15 September) and not extended in the same
    campaign: on 2 October it stays in the queue, and its parent is not told otherwise. A
    first-year application is cleaned only once its year is over."""
    city, kindergarten, _ = place
    choice = [(kindergarten, Language.ru)]

    async def submitted(at: datetime, valid_until: date) -> Application:
        return await make_application(
            city=city, choices=choice, submitted_at=at, valid_until=valid_until
        )

    this_campaign = await submitted(datetime(YEAR, 9, 15, 5, 0, tzinfo=UTC), date(YEAR + 1, 9, 15))
    # 2 October 00:30 in Almaty, just after last year's deadline: its first year.
    after_deadline = await submitted(
        datetime(YEAR - 1, 10, 1, 19, 30, tzinfo=UTC), date(YEAR, 10, 20)
    )
    # 1 October 23:30 in Almaty, last year's deadline day: last year's campaign was its chance.
    on_deadline = await submitted(datetime(YEAR - 1, 10, 1, 18, 30, tzinfo=UTC), date(YEAR, 10, 20))
    november = await submitted(datetime(YEAR - 1, 11, 10, 5, 0, tzinfo=UTC), date(YEAR, 11, 10))

    assert await annual_cleaning(settings, date(YEAR, 10, 2)) == 1
    statuses = {
        a.id: a.status
        for a in await Application.filter(
            id__in=[this_campaign.id, after_deadline.id, on_deadline.id, november.id]
        )
    }
    assert statuses == {
        this_campaign.id: ApplicationStatus.active,
        after_deadline.id: ApplicationStatus.active,
        on_deadline.id: ApplicationStatus.stop_listed,
        november.id: ApplicationStatus.active,
    }
    for spared in (this_campaign, after_deadline, november):
        assert not await Notification.filter(applicant_id=spared.applicant_id).exists()

    # Once its year is over (20 October, 10 November), a first-year application is cleaned.
    assert await annual_cleaning(settings, date(YEAR, 10, 19)) == 0
    assert await annual_cleaning(settings, date(YEAR, 10, 20)) == 1
    assert await annual_cleaning(settings, date(YEAR, 11, 9)) == 0
    assert await annual_cleaning(settings, date(YEAR, 11, 10)) == 1
    assert (await Application.get(id=november.id)).status == ApplicationStatus.stop_listed
    assert (await Application.get(id=this_campaign.id)).status == ApplicationStatus.active


# --- Rules 37 and 46: an archived application stays archived ------------------------------------


async def test_a_child_who_aged_out_during_a_live_referral_stays_archived_when_it_expires(
    place, settings
):
    """Scenario S3: the child turns 6 while the referral is live. The referral keeps the seat
    until it is used or expires; at expiry the seat goes back to the queue and the archived
    application is neither stop-listed nor restored, and the parent is told only that the
    referral expired."""
    city, kindergarten, group = place
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=BORN)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    referral = await extend_referral(
        referral.id, app.applicant_id, actor="parent", settings=settings
    )

    assert await remove_aged_out(settings, SIXTH_BIRTHDAY) == 1
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment

    with clock.travel(referral.expires_at - clock.now() + timedelta(minutes=1)):
        assert await expire_due(settings) == 1
    with clock.travel(referral.expires_at - clock.now() + timedelta(days=11)):
        assert await restore_due(settings) == 0

    after = await Application.get(id=app.id)
    assert (after.status, after.archive_reason, after.stop_listed_until) == (
        ApplicationStatus.archived,
        ArchiveReason.aged_out,
        None,
    )
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.expired
    assert await SeatRelease.all().count() == 2  # the seat went back to the queue
    kinds = await Notification.filter(applicant_id=app.applicant_id).values_list("kind", flat=True)
    assert "stop_listed" not in kinds and "restored" not in kinds
    expired = await _text_of(app.applicant_id, "referral_expired", settings)
    assert "истёк" in expired and "стоп-лист" not in expired.lower()


async def test_a_child_who_aged_out_can_still_be_enrolled_on_the_live_referral(place, settings):
    """Rule 46 decided: ageing out does not take the seat away; the kindergarten enrols the
    child on the referral issued before the birthday."""
    city, kindergarten, group = place
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=BORN)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    await remove_aged_out(settings, SIXTH_BIRTHDAY)

    await enroll(referral.id, actor="kindergarten:1")

    after = await Application.get(id=app.id)
    assert (after.status, after.archive_reason) == (
        ApplicationStatus.archived,
        ArchiveReason.enrolled,
    )
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled


async def test_a_benefit_rejected_after_the_child_aged_out_does_not_revive_the_application(
    place, settings
):
    city, kindergarten, group = place
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        born=BORN,
        stream=Stream.extraordinary,
        benefit_status=BenefitStatus.pending,
    )
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    await remove_aged_out(settings, SIXTH_BIRTHDAY)

    await confirm_benefit(app.id, False, "document unreadable", actor="staff:1", settings=settings)

    after = await Application.get(id=app.id)
    assert (after.status, after.archive_reason, after.stop_listed_until) == (
        ApplicationStatus.archived,
        ArchiveReason.aged_out,
        None,
    )
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.annulled
    with clock.travel(timedelta(days=11)):
        assert await restore_due(settings) == 0
    kinds = await Notification.filter(applicant_id=app.applicant_id).values_list("kind", flat=True)
    assert "stop_listed" not in kinds and "restored" not in kinds
    assert "benefit_rejected" in kinds


# --- Rule 39: an expired referral cannot be used --------------------------------------------------


async def test_the_kindergarten_cannot_enrol_on_an_expired_referral_before_the_timer_runs(
    place, settings
):
    """Scenario S4: three hours after the referral expired (the expiry job has not run yet) the
    kindergarten is refused with a reason, and nothing changes."""
    city, kindergarten, group = place
    [app] = await make_queue(city, kindergarten, 1, born=BORN)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)

    with clock.travel(referral.expires_at - clock.now() + timedelta(hours=3)):
        with pytest.raises(DomainError) as refused:
            await enroll(referral.id, actor="kindergarten:1")
    assert refused.value.reason == "referral_expired"

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    assert (await Application.get(id=app.id)).status == ApplicationStatus.active


# --- Security review #1: the questionnaire only while the campaign is open ------------------------


async def test_questionnaire_answers_sent_in_december_are_refused_and_not_stored(place, settings):
    """A forged "fill in" button outside the campaign: the parent is told when the campaign
    runs, and no answers are stored for the season."""
    _, kindergarten, _ = place
    parent = await make_parent()
    answers = {
        "kindergartens": [kindergarten.id],
        "ownership": "state",
        "ownership_why": [],
        "language": "kk",
        "max_payment": "25000",
        "activities": [],
        "digital": [],
    }
    with _travel_to(date(YEAR, 12, 1)):
        with pytest.raises(DomainError) as refused:
            await save_answers(parent.id, answers, season=YEAR, settings=settings)
    assert refused.value.reason == "extension_closed"
    assert refused.value.params["opens"] == f"{YEAR}-09-01"
    with _travel_to(date(YEAR, 9, 10)):  # an earlier season's answers cannot be rewritten
        with pytest.raises(DomainError):
            await save_answers(parent.id, answers, season=YEAR - 1, settings=settings)
    assert not await ExtensionAnswers.filter(applicant_id=parent.id).exists()

    with _travel_to(date(YEAR, 9, 10)):
        await save_answers(parent.id, answers, season=YEAR, settings=settings)
    assert await ExtensionAnswers.filter(applicant_id=parent.id, season=YEAR).exists()


async def test_a_parent_is_told_when_the_application_is_archived_for_age(place, settings):
    """Rule 46: ageing out changes the family's application, so the family is told, and a
    parent holding a live referral reads that it still holds."""
    city, kindergarten, group = place
    holding = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=BORN)
    waiting = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=BORN)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    await take_seat(holding.id, group.id, actor="parent", settings=settings)

    assert await remove_aged_out(settings, SIXTH_BIRTHDAY) == 2
    await remove_aged_out(settings, SIXTH_BIRTHDAY)  # the daily job runs again: told once

    told = await _text_of(waiting.applicant_id, "aged_out", settings)
    assert f"№{waiting.number}" in told and "до 6 лет" in told
    assert "направление остаётся в силе" not in told
    told = await _text_of(holding.applicant_id, "aged_out", settings)
    assert "направление остаётся в силе" in told
    assert await Notification.filter(kind="aged_out").count() == 2
