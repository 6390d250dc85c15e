"""A parent changes the referral mode of an application in the cabinet ("immediately" or "from a
date"): the core checks it as at submission, keeps the place, audits it and tells the parent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.notifications.render import render
from core.applications.referral_mode import change_referral_mode
from core.models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    Language,
    Notification,
    Offer,
    OfferStatus,
    ReferralMode,
)
from core.notifications.kinds import load
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats.general_access import announce_general_access
from core.seats.releases import release_seats
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_city,
    make_group,
    make_kindergarten,
)


async def test_from_a_date_then_back_to_immediately_each_told_and_audited(
    db: None, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    app = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], born=date(cohort_year(), 6, 1)
    )
    wanted = local_today(settings) + timedelta(days=60)

    await change_referral_mode(
        app.id, app.applicant_id, "from_date", wanted, settings=settings, actor="parent"
    )
    saved = await Application.get(id=app.id)
    assert (saved.referral_mode, saved.referral_from) == (ReferralMode.from_date, wanted)
    assert saved.submitted_at == app.submitted_at  # the place is kept

    # Seats opened to everyone now do not reach an application waiting for its date.
    group = await make_group(kindergarten, birth_year=app.birth_year)
    await release_seats(group.id, 1, actor="staff:1", settings=settings, window=timedelta(0))
    assert not await Notification.filter(kind="seat_offered", applicant_id=app.applicant_id)

    await change_referral_mode(
        app.id, app.applicant_id, "immediately", wanted, settings=settings, actor="parent"
    )
    saved = await Application.get(id=app.id)
    assert (saved.referral_mode, saved.referral_from) == (ReferralMode.immediately, None)
    # The same choice again changes nothing and tells nobody.
    await change_referral_mode(
        app.id, app.applicant_id, "immediately", settings=settings, actor="parent"
    )

    told = await Notification.filter(
        kind="referral_mode_changed", applicant_id=app.applicant_id
    ).order_by("id")
    texts = [render(load(n.kind, n.params), "ru").text for n in told]
    assert len(texts) == 2
    assert "с выбранной даты" in texts[0] and wanted.strftime("%Y") in texts[0]
    assert "сразу, при появлении места" in texts[1]
    kk = render(load(told[0].kind, told[0].params), "kk")
    assert "Жолдама қажет болатын күн:" in kk.text and wanted.strftime("%d.%m.%Y") in kk.sms
    audited = await AuditEntry.filter(
        action="application.referral_mode_changed", entity_id=str(app.id)
    ).order_by("id")
    assert [(a.before["referral_mode"], a.after["referral_mode"]) for a in audited] == [
        ("immediately", "from_date"),
        ("from_date", "immediately"),
    ]


async def test_a_wrong_date_another_familys_application_or_a_live_referral_are_refused(
    db: None, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    born = date(cohort_year(), 6, 1)
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=born)
    other = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=born)
    today = local_today(settings)

    async def refused(application: Application, applicant_id: int, *args: object) -> str:
        with pytest.raises(DomainError) as caught:
            await change_referral_mode(
                application.id, applicant_id, *args, settings=settings, actor="parent"
            )
        return str(caught.value.reason)

    assert await refused(app, app.applicant_id, "from_date", today) == "referral_date_out_of_range"
    too_late = date(app.birth_year + settings.max_child_age_years, 1, 1)
    assert await refused(app, app.applicant_id, "from_date", too_late) == (
        "referral_date_out_of_range"
    )
    assert await refused(app, app.applicant_id, "from_date", None) == "referral_date_required"
    assert await refused(app, app.applicant_id, "someday") == "invalid_referral_mode"
    assert await refused(other, app.applicant_id, "immediately") == "application_not_found"

    group = await make_group(kindergarten, birth_year=cohort_year())
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    await take_seat(app.id, group.id, actor="parent", settings=settings)
    assert (
        await refused(app, app.applicant_id, "from_date", today + timedelta(days=9))
        == "live_referral"
    )
    await Application.filter(id=other.id).update(status=ApplicationStatus.archived)
    assert await refused(other, other.applicant_id, "immediately") == "application_archived"
    assert not await Notification.filter(kind="referral_mode_changed").exists()
    assert (await Application.get(id=app.id)).referral_mode == ReferralMode.immediately


async def test_an_addressee_moving_to_a_later_date_gives_the_seat_to_the_next_in_line_at_once(
    db: None, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    born = date(cohort_year(), 6, 1)
    first = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=born)
    second = await make_application(city=city, choices=[(kindergarten, Language.ru)], born=born)
    group = await make_group(kindergarten, birth_year=cohort_year())
    release = await release_seats(group.id, 1, actor="staff:1", settings=settings)
    assert await Offer.filter(application_id=first.id, status=OfferStatus.open).exists()

    await change_referral_mode(
        first.id,
        first.applicant_id,
        "from_date",
        local_today(settings) + timedelta(days=90),
        settings=settings,
        actor="parent",
    )
    assert await Offer.filter(application_id=first.id, status=OfferStatus.declined).exists()
    told = await Notification.get(idempotency_key=f"seat_offered:general:{release.id}:{second.id}")
    assert told.params["general_access"] is True
    referral = await take_seat(second.id, group.id, actor="parent", settings=settings)
    assert referral.application_id == second.id


async def test_switching_to_immediately_offers_a_seat_already_free_as_submitting_does_once(
    db: None, settings: Settings
) -> None:
    """A parent waiting for a date switches to "immediately" while a seat is free for everyone in
    the chosen kindergarten: the seat is offered at once with its button (as it would be to an
    application submitted now), and they are not told of it again: not on switching back and
    forth, not by the general-access announcement."""
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        born=date(cohort_year(), 6, 1),
        referral_mode=ReferralMode.from_date,
        referral_from=local_today(settings) + timedelta(days=60),
    )
    group = await make_group(kindergarten, birth_year=app.birth_year)
    release = await release_seats(group.id, 1, actor="staff:1", settings=settings, window=None)
    assert not await Notification.filter(kind="seat_offered", applicant_id=app.applicant_id)

    await change_referral_mode(
        app.id, app.applicant_id, "immediately", settings=settings, actor="parent"
    )
    offers = await Notification.filter(kind="seat_offered", applicant_id=app.applicant_id)
    assert len(offers) == 1
    offer = render(load(offers[0].kind, offers[0].params), "ru")
    assert offer.button is not None and offers[0].params["release_id"] == release.id
    assert "Место открыто для всех в очереди" in offer.text

    later = local_today(settings) + timedelta(days=30)
    await change_referral_mode(
        app.id, app.applicant_id, "from_date", later, settings=settings, actor="parent"
    )
    await change_referral_mode(
        app.id, app.applicant_id, "immediately", settings=settings, actor="parent"
    )
    await announce_general_access(settings)
    assert (
        await Notification.filter(kind="seat_offered", applicant_id=app.applicant_id).count() == 1
    )
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    assert referral.application_id == app.id
