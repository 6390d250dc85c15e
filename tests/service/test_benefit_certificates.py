"""Extraordinary benefits: only staff decide them (never the registry's callback), and an
unconfirmed certificate lapses `benefit_certificate_valid_days` after its upload (DOMAIN.md:
"Benefit certificates are valid 30 days from issue"); the parent is told before and when."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.applications.submission import SubmissionInput, submit
from core.models import (
    Application,
    ApplicationChoice,
    AuditEntry,
    BenefitStatus,
    DocumentKind,
    InboxEvent,
    InboxStatus,
    Language,
    Notification,
    QueueType,
    Referral,
    ReferralStatus,
    Stream,
)
from core.people.applicants import create_document
from core.platform import clock
from core.referrals.benefits import benefit_certificates, confirm_benefit
from core.referrals.take import take_seat
from core.registry import inbox
from core.seats.releases import release_seats
from tests.fixtures.queue import make_child, make_city, make_kindergarten, make_parent
from tests.fixtures.seats import make_group


def local_today(settings) -> date:
    return clock.now().astimezone(settings.tz).date()


@pytest.fixture
async def claim(db: None, settings):
    """A military family's application, submitted today with its certificate uploaded today."""
    city = await make_city()
    kg = await make_kindergarten(city, 1, languages="kk,ru")
    parent = await make_parent(telegram_user_id=801)
    child = await make_child(parent, date(clock.now().year - 3, 2, 2))
    doc = await create_document(parent, DocumentKind.benefit, "certificate-1")
    data = SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=city.id,
        queue_type=QueueType.general,
        choices=[(kg.id, Language.ru)],
        legal_representative=True,
        benefit_category=1,
        benefit_document_id=doc.id,
    )
    app = await submit(data, settings=settings, actor="t")
    await child.fetch_related("person")
    return {"app": app, "kg": kg, "child": child, "data": data, "parent": parent}


async def kinds(app: Application) -> list[str]:
    rows = await Notification.filter(applicant_id=app.applicant_id).order_by("id")
    return [row.kind for row in rows]


async def test_staff_still_see_the_military_benefit_pending_after_the_registry_rejects_it(
    claim, settings
) -> None:
    """Domain audit rule 15: the gov callback confirmed or rejected exactly the class it must
    not. Now the event is kept, answered as refused, and the application does not change."""
    app = claim["app"]
    for event_id, confirmed in (("gov-no", False), ("gov-yes", True)):
        _, event = await inbox.store(
            "gov",
            {
                "event_id": event_id,
                "type": "benefit.confirmed",
                "iin": claim["child"].person.iin,
                "category": 1,
                "confirmed": confirmed,
                "reason": "registry says so",
            },
        )
        assert event is not None
        assert await inbox.process(event.id, inbox.InboxContext(settings=settings))
        stored = await InboxEvent.get(id=event.id)
        assert stored.status == InboxStatus.done
        assert stored.error == "refused: benefit_decided_by_staff"
    await app.refresh_from_db()
    assert (app.benefit_category, app.benefit_status, app.stream) == (
        1,
        BenefitStatus.pending,
        Stream.extraordinary,
    )
    assert await kinds(app) == ["application_registered"]
    assert not await AuditEntry.filter(action__startswith="benefit.").exists()


async def test_the_parent_is_told_three_days_before_an_unconfirmed_certificate_runs_out(
    claim, settings
) -> None:
    app = claim["app"]
    valid_days = settings.benefit_certificate_valid_days
    assert app.benefit_valid_until == local_today(settings) + timedelta(days=valid_days)
    assert await benefit_certificates(settings, local_today(settings)) == 0
    assert await kinds(app) == ["application_registered"]
    three_before = local_today(settings) + timedelta(days=valid_days - 3)
    assert await benefit_certificates(settings, three_before) == 0
    assert await benefit_certificates(settings, three_before + timedelta(days=1)) == 0  # once
    assert await kinds(app) == ["application_registered", "benefit_certificate_expiring"]
    await app.refresh_from_db()
    assert app.benefit_status == BenefitStatus.pending


async def test_an_unconfirmed_certificate_lapses_and_the_child_returns_to_the_general_queue(
    claim, settings
) -> None:
    app = claim["app"]
    submitted_at = app.submitted_at
    last_valid = app.benefit_valid_until
    assert await benefit_certificates(settings, last_valid) == 0  # valid through its last day
    assert await benefit_certificates(settings, last_valid + timedelta(days=1)) == 1
    await app.refresh_from_db()
    assert (app.benefit_category, app.benefit_status, app.stream) == (
        None,
        BenefitStatus.rejected,
        Stream.general,
    )
    assert app.submitted_at == submitted_at  # its original time
    choice = await ApplicationChoice.get(application_id=app.id)
    assert choice.stream == Stream.general
    entry = await AuditEntry.get(action="benefit.rejected", entity_id=str(app.id))
    assert entry.actor == "system" and entry.after["reason"] == "benefit_certificate_expired"
    assert (await kinds(app))[-1] == "benefit_certificate_lapsed"
    assert await benefit_certificates(settings, last_valid + timedelta(days=2)) == 0


async def test_a_certificate_staff_confirmed_never_lapses(claim, settings) -> None:
    app = claim["app"]
    await confirm_benefit(app.id, True, actor="staff:1", settings=settings)
    later = app.benefit_valid_until + timedelta(days=5)
    assert await benefit_certificates(settings, later) == 0
    await app.refresh_from_db()
    assert (app.benefit_status, app.stream) == (BenefitStatus.confirmed, Stream.extraordinary)


async def test_a_lapse_with_a_referral_waiting_annuls_it_and_stop_lists_the_application(
    claim, settings
) -> None:
    app = claim["app"]
    group = await make_group(claim["kg"], birth_year=claim["child"].person.birth_date.year)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    assert referral.status == ReferralStatus.awaiting_benefit_confirmation
    assert await benefit_certificates(settings, app.benefit_valid_until + timedelta(days=1)) == 1
    await referral.refresh_from_db()
    await app.refresh_from_db()
    assert referral.status == ReferralStatus.annulled
    assert app.status == "stop_listed" and app.stream == Stream.general
    lapsed = await Notification.filter(applicant_id=app.applicant_id).order_by("-id").first()
    assert lapsed.kind == "benefit_certificate_lapsed" and lapsed.params["number"]
    assert await Referral.filter(application_id=app.id).count() == 1
