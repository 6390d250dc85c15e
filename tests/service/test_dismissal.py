"""A child leaves the kindergarten: staff record the departure of an enrolled child, the seat the
child filled may be released for the next one in the queue (never automatically), the parent is
told in their language, the departure is in the audit and the public log, and a departure
recorded by mistake is undone while its seat was not released again."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.notifications.render import render
from core import audit
from core.models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    Departure,
    DepartureReason,
    Language,
    LedgerLeaf,
    Notification,
    Offer,
    Referral,
    ReferralStatus,
    SeatRelease,
    StaffRole,
)
from core.notifications.kinds import load
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.referrals.departures import dismiss
from core.referrals.lifecycle import enroll
from core.referrals.take import take_seat
from core.referrals.undo import undo_dismissal
from core.seats.releases import group_seats, release_seats
from core.views.stats import open_data
from tests.fixtures.seats import (
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
)
from tests.fixtures.worker import make_staff
from verifier.replay import replay


@pytest.fixture
async def full_group(db: None, settings: Settings) -> Any:
    """A group of one seat, filled by an enrolled child whose parent reads Kazakh; the next
    child waits in the queue."""
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    group = await make_group(kindergarten)
    group.capacity = 1
    await group.save(update_fields=["capacity"])
    admin = await make_staff(601, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    parent = await make_parent(Language.kk)
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        submitted_at=clock.now() - timedelta(days=400),
    )
    await release_seats(group.id, 1, actor="staff:test", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    await enroll(referral.id, actor=f"staff:{admin.id}")
    waiting = await make_application(city=city, choices=[(kindergarten, Language.ru)])
    return kindergarten, group, admin, app, referral, waiting


async def _refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await call
    return refused.value


async def test_a_departure_frees_the_seat_for_a_release_to_the_next_child(
    full_group: Any, settings: Settings
) -> None:
    _kindergarten, group, admin, app, referral, waiting = full_group
    assert (await group_seats(group)).releasable == 0
    full = await _refused(release_seats(group.id, 1, actor="staff:test", settings=settings))
    assert full.reason == Reason.over_capacity

    departure = await dismiss(referral.id, DepartureReason.went_to_school, admin, settings=settings)

    assert departure.left_on == local_today(settings) and departure.undone_at is None
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.departed
    # The application stays archived: the child was enrolled, it does not queue again.
    assert (await Application.get(id=app.id)).status == ApplicationStatus.archived
    # Nothing is released by itself; staff may release one more seat now.
    assert await SeatRelease.all().count() == 1
    assert (await group_seats(group)).releasable == 1
    release = await release_seats(group.id, 1, actor="staff:test", settings=settings)
    assert await Offer.filter(release_id=release.id, application_id=waiting.id).exists()
    assert (await open_data()).dismissed_5_days == 1


async def test_the_parent_is_told_in_their_language_with_the_reason(
    full_group: Any, settings: Settings
) -> None:
    _kindergarten, _group, admin, app, referral, _waiting = full_group
    await dismiss(referral.id, "moved_away", admin, settings=settings)

    row = await Notification.get(applicant_id=app.applicant_id, kind="referral_dismissed")
    payload = load(row.kind, row.params)
    kk = render(payload, "kk", tz=settings.tz)
    ru = render(payload, "ru", tz=settings.tz)
    assert "балабақшадан шыққанын" in kk.text and "Отбасы басқа жерге көшті." in kk.text
    assert "выбыл из детского сада" in ru.text and "Семья переехала." in ru.text
    assert referral.number in kk.text and "№1 бөбекжай-бақша" in kk.text
    assert "шықты" in kk.sms and "выбыл" in ru.sms


async def test_a_typed_reason_reaches_the_parent_as_typed_and_stays_out_of_the_public_log(
    full_group: Any, settings: Settings
) -> None:
    _kindergarten, _group, admin, app, referral, _waiting = full_group
    refused = await _refused(dismiss(referral.id, "other", admin, settings=settings, note="  "))
    assert refused.reason == Reason.departure_reason_required

    await dismiss(referral.id, "other", admin, settings=settings, note="Перевод в санаторий")

    row = await Notification.get(applicant_id=app.applicant_id, kind="referral_dismissed")
    assert "«Перевод в санаторий»" in render(load(row.kind, row.params), "ru").text
    leaf = await LedgerLeaf.get(action="referral.departed")
    assert json.loads(leaf.data)["reason"] == "other"
    assert "санаторий" not in leaf.data
    entry = await AuditEntry.get(action="referral.departed")
    assert entry.actor == f"staff:{admin.id}" and (entry.after or {})["note"]


async def test_refusals_name_their_reason(full_group: Any, settings: Settings) -> None:
    kindergarten, group, admin, _app, referral, waiting = full_group
    # Outside the staff member's scope: another kindergarten's administrator.
    other = await make_staff(
        602,
        StaffRole.kindergarten_admin,
        kindergarten=await make_kindergarten(await kindergarten.city, 2),
    )
    outside = await _refused(dismiss(referral.id, "health", other, settings=settings))
    assert outside.reason == Reason.out_of_scope
    # Not enrolled: a referral still waiting for the enrolment.
    group.capacity = 2
    await group.save(update_fields=["capacity"])
    await release_seats(group.id, 1, actor="staff:test", settings=settings)
    live = await take_seat(waiting.id, group.id, actor="parent", settings=settings)
    waiting_one = await _refused(dismiss(live.id, "health", admin, settings=settings))
    assert waiting_one.reason == Reason.referral_not_enrolled
    # A day before the enrolment or in the future.
    tomorrow = local_today(settings) + timedelta(days=1)
    future = await _refused(
        dismiss(referral.id, "health", admin, settings=settings, left_on=tomorrow)
    )
    assert future.reason == Reason.departure_date_out_of_range
    # A reason code the bot never offers (forged input).
    forged = await _refused(dismiss(referral.id, "bribe", admin, settings=settings))
    assert forged.reason == Reason.invalid_departure_reason
    # Twice.
    await dismiss(referral.id, "health", admin, settings=settings)
    twice = await _refused(dismiss(referral.id, "health", admin, settings=settings))
    assert twice.reason == Reason.referral_already_departed
    assert twice.params["left_on"] == local_today(settings).isoformat()
    assert await Departure.all().count() == 1
    assert await AuditEntry.filter(action="referral.departed").count() == 1


async def test_an_undo_enrols_the_child_again_and_tells_the_parent(
    full_group: Any, settings: Settings
) -> None:
    _kindergarten, group, admin, app, referral, _waiting = full_group
    await dismiss(referral.id, "parent_request", admin, settings=settings)

    await undo_dismissal(referral.id, admin, settings=settings)

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
    departure = await Departure.get(referral_id=referral.id)
    assert departure.undone_at is not None and departure.undone_by == f"staff:{admin.id}"
    assert (await group_seats(group)).releasable == 0
    assert (await open_data()).dismissed_5_days == 0
    kinds = [
        row.kind for row in await Notification.filter(applicant_id=app.applicant_id).order_by("id")
    ]
    assert kinds[-2:] == ["referral_dismissed", "referral_dismissal_undone"]
    nothing_left = await _refused(undo_dismissal(referral.id, admin, settings=settings))
    assert nothing_left.reason == Reason.undo_not_possible
    # The departure can be recorded again, and the log replays with both.
    await dismiss(referral.id, "parent_request", admin, settings=settings)
    rows = await LedgerLeaf.all().order_by("seq")
    actions = [row.action for row in rows]
    assert "referral.departed" in actions and "referral.departed.undone" in actions
    report = replay(json.loads(row.data) for row in rows)
    first = actions.index("referral.departed")
    assert not [f for f in report.findings if f.seq >= rows[first].seq], report.lines()
    assert (await audit.verify_chain()).ok


async def test_an_undo_is_refused_once_the_freed_seat_was_released(
    full_group: Any, settings: Settings
) -> None:
    _kindergarten, group, admin, _app, referral, _waiting = full_group
    await dismiss(referral.id, "went_to_school", admin, settings=settings)
    await release_seats(group.id, 1, actor="staff:test", settings=settings)

    refused = await _refused(undo_dismissal(referral.id, admin, settings=settings))

    assert refused.reason == Reason.undo_not_possible
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.departed


async def test_after_the_window_only_a_superadmin_undoes_a_departure(
    full_group: Any, settings: Settings
) -> None:
    _kindergarten, _group, admin, _app, referral, _waiting = full_group
    await dismiss(referral.id, "health", admin, settings=settings)
    superadmin = await make_staff(603, StaffRole.superadmin)

    with clock.travel(timedelta(minutes=settings.staff_undo_minutes + 1)):
        late = await _refused(undo_dismissal(referral.id, admin, settings=settings))
        assert late.reason == Reason.undo_window_passed
        await undo_dismissal(referral.id, superadmin, settings=settings)
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
