"""Staff undo an enrolment, a revocation or a benefit decision made by mistake: the state comes
back, the undo is audited, the parent is told; after the window only a superadmin may, only in
the decision's own scope, and never once its freed seat went to somebody else."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from core import audit
from core.models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    BenefitStatus,
    Language,
    LedgerLeaf,
    Notification,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    Seat,
    SeatStatus,
    StaffMember,
    StaffRole,
    Stream,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.referrals.benefits import confirm_benefit
from core.referrals.lifecycle import enroll, revoke
from core.referrals.take import take_seat
from core.referrals.undo import undo_benefit_decision, undo_enrolment, undo_revocation
from core.seats.releases import release_seats
from tests.fixtures.seats import make_application, make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff
from verifier.replay import replay


@pytest.fixture
async def place(db: None) -> Any:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    group = await make_group(kindergarten)
    admin = await make_staff(501, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    return city, kindergarten, group, admin


async def _referral(place: Any, settings: Settings, **kw: Any) -> tuple[Application, Referral]:
    city, kindergarten, group, _admin = place
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)], **kw)
    await release_seats(group.id, 1, actor="staff:test", settings=settings)
    return app, await take_seat(app.id, group.id, actor="parent", settings=settings)


async def _kinds(app: Application) -> list[str]:
    return [
        row.kind for row in await Notification.filter(applicant_id=app.applicant_id).order_by("id")
    ]


async def _log_replays_clean() -> None:
    """The undo is in the public log, and the replay finds nothing wrong from it on (the
    fixtures' applications were not registered through the log, so what came before is not
    judged here)."""
    rows = await LedgerLeaf.all().order_by("seq")
    undone = [row.seq for row in rows if row.action.endswith(".undone")]
    assert undone
    report = replay(json.loads(row.data) for row in rows)
    assert not [f for f in report.findings if f.seq >= undone[0]], report.lines()
    assert (await audit.verify_chain()).ok


async def test_an_enrolment_undone_puts_the_referral_and_the_application_back(
    place: Any, settings: Settings
) -> None:
    _city, _kindergarten, _group, admin = place
    app, referral = await _referral(place, settings)
    await enroll(referral.id, actor=f"staff:{admin.id}")

    await undo_enrolment(referral.id, admin, settings=settings)

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    assert (await Application.get(id=app.id)).status == ApplicationStatus.active
    undone = await AuditEntry.get(action="referral.enrolled.undone")
    assert undone.actor == f"staff:{admin.id}"
    assert await AuditEntry.filter(action="application.enrolment_undone").exists()
    kinds = await _kinds(app)
    assert kinds.index("referral_enrolled") < kinds.index("referral_enrolment_undone")
    # Undone once: there is no enrolment left to undo.
    with pytest.raises(DomainError) as refused:
        await undo_enrolment(referral.id, admin, settings=settings)
    assert refused.value.reason == Reason.undo_not_possible
    # And the child can be enrolled on it again.
    await enroll(referral.id, actor=f"staff:{admin.id}")
    await _log_replays_clean()


async def test_a_revocation_undone_gives_the_referral_its_seat_and_withdraws_the_new_offer(
    place: Any, settings: Settings
) -> None:
    city, kindergarten, group, admin = place
    app, referral = await _referral(place, settings)
    nxt = await make_application(city=city, choices=[(kindergarten, Language.ru)])
    await revoke(referral.id, "ошибка", actor=f"staff:{admin.id}", settings=settings)
    offer = await Offer.get(application_id=nxt.id)  # the freed seat went to the next in line
    assert offer.status == OfferStatus.open

    await undo_revocation(referral.id, admin, settings=settings)

    restored = await Referral.get(id=referral.id)
    assert restored.status == ReferralStatus.awaiting_enrollment and restored.closed_at is None
    assert (await Seat.get(id=referral.seat_id)).status == SeatStatus.taken
    assert (await Offer.get(id=offer.id)).status == OfferStatus.lapsed
    assert not await Seat.filter(group_id=group.id, status=SeatStatus.free).exists()
    assert await AuditEntry.filter(action="referral.revoked.undone").exists()
    kinds = await _kinds(app)
    assert kinds.index("referral_revoked") < kinds.index("referral_revocation_undone")
    # The next in line had been told the seat was theirs: they are told it is gone.
    assert (await _kinds(nxt))[-1] == "offer_withdrawn"
    await _log_replays_clean()


async def test_a_revocation_whose_seat_was_taken_again_cannot_be_undone(
    place: Any, settings: Settings
) -> None:
    city, kindergarten, group, admin = place
    _app, referral = await _referral(place, settings)
    nxt = await make_application(city=city, choices=[(kindergarten, Language.ru)])
    await revoke(referral.id, "ошибка", actor=f"staff:{admin.id}", settings=settings)
    await take_seat(nxt.id, group.id, actor="parent", settings=settings)

    with pytest.raises(DomainError) as refused:
        await undo_revocation(referral.id, admin, settings=settings)

    assert refused.value.reason == Reason.undo_not_possible
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.revoked
    assert not await AuditEntry.filter(action="referral.revoked.undone").exists()


async def test_after_the_window_only_a_superadmin_undoes(place: Any, settings: Settings) -> None:
    _city, _kindergarten, _group, admin = place
    app, referral = await _referral(place, settings)
    await enroll(referral.id, actor=f"staff:{admin.id}")
    superadmin = await make_staff(502, StaffRole.superadmin)

    with clock.travel(timedelta(minutes=settings.staff_undo_minutes + 1)):
        with pytest.raises(DomainError) as refused:
            await undo_enrolment(referral.id, admin, settings=settings)
        assert refused.value.reason == Reason.undo_window_passed
        assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled

        await undo_enrolment(referral.id, superadmin, settings=settings)
    assert (await Application.get(id=app.id)).status == ApplicationStatus.active


async def test_another_kindergartens_admin_cannot_undo(place: Any, settings: Settings) -> None:
    city, _kindergarten, _group, admin = place
    _app, referral = await _referral(place, settings)
    await enroll(referral.id, actor=f"staff:{admin.id}")
    other: StaffMember = await make_staff(
        503, StaffRole.kindergarten_admin, kindergarten=await make_kindergarten(city, 2)
    )

    with pytest.raises(DomainError) as refused:
        await undo_enrolment(referral.id, other, settings=settings)

    assert refused.value.reason == Reason.out_of_scope
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled


async def test_a_benefit_confirmation_undone_waits_for_a_decision_again(
    place: Any, settings: Settings
) -> None:
    _city, _kindergarten, _group, admin = place
    app, referral = await _referral(
        place, settings, stream=Stream.extraordinary, benefit_status=BenefitStatus.pending
    )
    assert referral.status == ReferralStatus.awaiting_benefit_confirmation
    await confirm_benefit(app.id, True, actor=f"staff:{admin.id}", settings=settings)

    await undo_benefit_decision(app.id, admin, settings=settings)

    assert (await Application.get(id=app.id)).benefit_status == BenefitStatus.pending
    back = await Referral.get(id=referral.id)
    assert back.status == ReferralStatus.awaiting_benefit_confirmation
    assert back.expires_at == referral.expires_at
    assert await AuditEntry.filter(action="benefit.confirmed.undone").exists()
    kinds = await _kinds(app)
    assert kinds.index("benefit_confirmed") < kinds.index("benefit_decision_undone")
    await _log_replays_clean()


async def test_a_benefit_rejection_undone_gives_back_the_benefit_the_referral_and_the_queue(
    place: Any, settings: Settings
) -> None:
    _city, _kindergarten, _group, admin = place
    app, referral = await _referral(
        place, settings, stream=Stream.extraordinary, benefit_status=BenefitStatus.pending
    )
    await confirm_benefit(
        app.id, False, "документ нечитаем", actor=f"staff:{admin.id}", settings=settings
    )
    rejected = await Application.get(id=app.id)
    assert rejected.status == ApplicationStatus.stop_listed and rejected.stream == Stream.general

    await undo_benefit_decision(app.id, admin, settings=settings)

    back = await Application.get(id=app.id)
    assert back.benefit_status == BenefitStatus.pending
    assert back.stream == Stream.extraordinary and back.benefit_category == 1
    assert back.status == ApplicationStatus.active
    restored = await Referral.get(id=referral.id)
    assert restored.status == ReferralStatus.awaiting_benefit_confirmation
    assert (await Seat.get(id=referral.seat_id)).status == SeatStatus.taken
    assert await AuditEntry.filter(action="benefit.rejected.undone").exists()
    assert "benefit_decision_undone" in await _kinds(app)
    await _log_replays_clean()
