"""Staff undo a seat release made by mistake: the seats nobody took are withdrawn, the open
offers lapse and those parents are told their place is kept, referrals already issued stay; the
undo is audited and in the public log; after the window only a superadmin may, only in scope."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from core import audit
from core.models import (
    Application,
    AuditEntry,
    Language,
    LedgerLeaf,
    Notification,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    Seat,
    SeatStatus,
    StaffRole,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.referrals.undo import preview_release_undo, undo_release
from core.seats.releases import group_seats, release_seats
from core.views import stats
from tests.fixtures.seats import make_application, make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff


@pytest.fixture
async def place(db: None) -> Any:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    group = await make_group(kindergarten)
    admin = await make_staff(601, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    return city, kindergarten, group, admin


async def _queue(place: Any, n: int) -> list[Application]:
    city, kindergarten, _group, _admin = place
    return [
        await make_application(city=city, choices=[(kindergarten, Language.ru)]) for _ in range(n)
    ]


async def test_a_release_undone_withdraws_free_seats_lapses_offers_and_keeps_referrals(
    place: Any, settings: Settings
) -> None:
    _city, _kindergarten, group, admin = place
    first, second, third = await _queue(place, 3)
    release = await release_seats(group.id, 3, actor=f"staff:{admin.id}", settings=settings)
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)

    asked = await preview_release_undo(release.id, admin, settings=settings)
    assert (asked.withdrawn, asked.lapsed, asked.kept) == (2, 2, 1)
    assert (await Seat.filter(release_id=release.id, status=SeatStatus.free).count()) == 2

    done = await undo_release(release.id, admin, settings=settings)

    assert (done.withdrawn, done.lapsed, done.kept) == (2, 2, 1)
    assert await Seat.filter(release_id=release.id, status=SeatStatus.free).count() == 0
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    for app in (second, third):
        assert (await Offer.get(application_id=app.id)).status == OfferStatus.lapsed
        told = await Notification.filter(applicant_id=app.applicant_id, kind="offer_withdrawn")
        assert len(told) == 1
    assert not await Notification.filter(
        applicant_id=first.applicant_id, kind="offer_withdrawn"
    ).exists()
    # The group can be released again: the withdrawn seats no longer count as free, and no
    # release (made or undone) counts as a child who left (/stats counts departures).
    assert (await group_seats(group)).free == 0
    figures = await stats.open_data()
    assert (figures.free_seats, figures.dismissed_5_days) == (0, 0)
    entry = await AuditEntry.get(action="seats.released.undone")
    assert entry.actor == f"staff:{admin.id}"
    leaves = [json.loads(row.data) for row in await LedgerLeaf.all().order_by("seq")]
    (leaf,) = [leaf for leaf in leaves if leaf["action"] == "seats.released.undone"]
    assert (leaf["release"], leaf["withdrawn"], leaf["kept"]) == (release.id, 2, 1)
    assert (await audit.verify_chain()).ok
    # Once undone there is nothing left to withdraw.
    with pytest.raises(DomainError) as refused:
        await undo_release(release.id, admin, settings=settings)
    assert refused.value.reason == Reason.undo_not_possible


async def test_a_release_undo_after_the_window_is_for_a_superadmin_and_in_scope_only(
    place: Any, settings: Settings
) -> None:
    city, _kindergarten, group, admin = place
    await _queue(place, 1)
    release = await release_seats(group.id, 1, actor=f"staff:{admin.id}", settings=settings)
    elsewhere = await make_kindergarten(city, 2)
    stranger = await make_staff(602, StaffRole.kindergarten_admin, kindergarten=elsewhere)
    with pytest.raises(DomainError) as refused:
        await undo_release(release.id, stranger, settings=settings)
    assert refused.value.reason == Reason.out_of_scope

    superadmin = await make_staff(603, StaffRole.superadmin)
    with clock.travel(timedelta(minutes=settings.staff_undo_minutes + 1)):
        with pytest.raises(DomainError) as late:
            await preview_release_undo(release.id, admin, settings=settings)
        assert late.value.reason == Reason.undo_window_passed
        await undo_release(release.id, superadmin, settings=settings)
    assert await Seat.filter(release_id=release.id, status=SeatStatus.withdrawn).count() == 1
