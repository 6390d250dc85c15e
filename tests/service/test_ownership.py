"""Every id the bot passes to the core is the caller's own (issue 11: "every id (application,
referral, release, seat, child) owned by or visible to the caller"; security review #6). A parent
who forges a button with another family's application, referral, child, document or phone id is
refused with a reason, and nothing changes: no status, no offer, no phone, no audit entry, no
notification."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.applications import extension, lifecycle
from core.applications.submission import SubmissionInput, submit
from core.models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    DocumentKind,
    ExtensionAnswers,
    GroupKind,
    Language,
    Notification,
    Offer,
    Phone,
    QueueType,
    Referral,
    Seat,
)
from core.people import applicants
from core.platform import clock
from core.platform.errors import DomainError
from core.referrals import lifecycle as referrals
from core.referrals.take import take_seat
from core.seats import availability, general_access
from core.seats.releases import release_seats
from core.views import cabinet
from tests.fixtures.seats import (
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
)


@pytest.fixture
async def families(db, settings):
    """The owner's applications: one with a live referral, one with an open offer, one on the
    stop-list; and a stranger with an application and two verified phones of their own."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    # A correctional group too: a correctional application may choose this kindergarten.
    await make_group(kindergarten, kind=GroupKind.correctional)
    choice = [(kindergarten, Language.ru)]
    owner, stranger = await make_parent(), await make_parent()
    with_referral = await make_application(city=city, choices=choice, applicant=owner)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(with_referral.id, group.id, actor="parent", settings=settings)
    with_offer = await make_application(city=city, choices=choice, applicant=owner)
    release = await release_seats(group.id, 1, actor="staff:1", settings=settings)
    assert await Offer.filter(application_id=with_offer.id).exists()
    stop_listed = await make_application(
        city=city, choices=choice, applicant=owner, status=ApplicationStatus.stop_listed
    )
    mine = await make_application(city=city, choices=choice, applicant=stranger)
    for n in range(2):
        await applicants.verify_phone(owner, f"+7701111000{n}")
        await applicants.verify_phone(stranger, f"+7702222000{n}")
    return {
        "city": city,
        "kindergarten": kindergarten,
        "group": group,
        "owner": owner,
        "stranger": stranger,
        "with_referral": with_referral,
        "referral": referral,
        "with_offer": with_offer,
        "release": release,
        "stop_listed": stop_listed,
        "mine": mine,
    }


async def _state() -> tuple[object, ...]:
    return (
        await Application.all().order_by("id").values_list("status", "stop_listed_until"),
        await Referral.all().order_by("id").values_list("status", "expires_at", "extended"),
        await Offer.all().order_by("id").values_list("status"),
        await Seat.all().order_by("id").values_list("status"),
        await Phone.all().order_by("id").values_list("applicant_id", "number"),
        await ExtensionAnswers.all().values_list("extended_numbers"),
        await AuditEntry.all().count(),
        await Notification.all().count(),
    )


async def _refused(call, reason: str) -> None:
    before = await _state()
    with pytest.raises(DomainError) as refused:
        await call
    assert refused.value.reason == reason
    assert await _state() == before


async def test_another_familys_application_and_referral_ids_are_refused_and_nothing_changes(
    families, settings
):
    f = families
    stranger = f["stranger"].id
    actor = f"applicant:{stranger}"

    await _refused(
        lifecycle.withdraw(f["with_offer"].id, stranger, actor=actor), "application_not_found"
    )
    await _refused(
        lifecycle.restore(f["stop_listed"].id, stranger, actor=actor, settings=settings),
        "application_not_found",
    )
    await _refused(
        referrals.extend_referral(f["referral"].id, stranger, actor=actor, settings=settings),
        "referral_not_found",
    )
    await _refused(
        referrals.decline_referral(f["referral"].id, stranger, actor=actor, settings=settings),
        "referral_not_found",
    )
    await _refused(
        take_seat(
            f["with_offer"].id,
            f["group"].id,
            actor=actor,
            settings=settings,
            applicant_id=stranger,
        ),
        "application_not_found",
    )
    await _refused(
        general_access.decline_offer(
            f["with_offer"].id,
            f["release"].id,
            actor=actor,
            settings=settings,
            applicant_id=stranger,
        ),
        "application_not_found",
    )
    await _refused(
        availability.available_for(f["with_offer"].id, settings, applicant_id=stranger),
        "application_not_found",
    )
    await _refused(
        cabinet.application_of(stranger, f["with_offer"].id, settings), "application_not_found"
    )
    await _refused(cabinet.referral_of(stranger, f["referral"].id), "referral_not_found")
    assert await cabinet.open_offers(stranger, f["with_offer"].id) == []
    assert not await cabinet.owns_application(stranger, f["with_offer"].id)

    # The owner's own calls still work (the refusals above were about ownership only).
    assert await availability.available_for(
        f["with_offer"].id, settings, applicant_id=f["owner"].id
    )
    assert await cabinet.open_offers(f["owner"].id, f["with_offer"].id)


async def test_another_familys_application_cannot_be_extended_in_the_campaign(families, settings):
    f = families
    stranger = f["stranger"].id
    year = clock.now().year
    answers = {
        "kindergartens": [f["kindergarten"].id],
        "ownership": "any",
        "language": "ru",
        "max_payment": "10000",
    }
    september = datetime(year, 9, 10, 7, 0, tzinfo=UTC)
    with clock.travel(september - clock.now()):
        await extension.save_answers(stranger, answers, season=year, settings=settings)
        await _refused(
            extension.extend_applications(
                stranger, [f["mine"].id, f["with_offer"].id], actor="p", settings=settings
            ),
            "application_not_found",
        )


async def test_another_familys_child_document_or_phone_is_refused_and_nothing_changes(
    families, settings
):
    f = families
    stranger = f["stranger"]
    owners_child = f["with_offer"].child_id
    statement = SubmissionInput(
        applicant_id=stranger.id,
        child_id=owners_child,
        city_id=f["city"].id,
        queue_type=QueueType.correctional,  # the owner's child has no correctional application
        choices=[(f["kindergarten"].id, Language.ru)],
        legal_representative=True,
        pmpk_document_id=(await applicants.create_document(stranger, DocumentKind.pmpk, "p")).id,
        birth_certificate_document_id=(
            await applicants.create_document(stranger, DocumentKind.birth_certificate, "b")
        ).id,
    )
    await _refused(submit(statement, settings=settings, actor="p"), "child_not_found")

    owners_document = await applicants.create_document(f["owner"], DocumentKind.pmpk, "o")
    own_child = f["mine"].child_id
    await _refused(
        submit(
            replace(statement, child_id=own_child, pmpk_document_id=owners_document.id),
            settings=settings,
            actor="p",
        ),
        "document_not_found",
    )

    owners_phone = await Phone.filter(applicant_id=f["owner"].id).first()
    assert owners_phone is not None
    await _refused(
        applicants.replace_phone(stranger.id, owners_phone.id, "+77022220000"),
        "phone_not_found",
    )
