"""A seat release made by mistake is undone from its result: the question counts what happens
(seats withdrawn, offers that lapse, referrals that stay), the parents whose offer lapses are
told their place is kept; the groups of a kindergarten are offered in natural order."""

from __future__ import annotations

from typing import Any

from core.models import Language, Offer, OfferStatus, Seat, SeatRelease, SeatStatus, StaffRole
from core.platform.settings import Settings
from core.referrals.take import take_seat
from tests.bot.test_staff import Staff
from tests.bot.test_staff_actions import _told, said
from tests.fixtures.seats import (
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
)
from tests.fixtures.staff_texts import fixed_part
from tests.fixtures.worker import make_staff


async def test_a_release_is_undone_from_its_result_and_the_offered_parents_are_told(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten, name="№3")
    await make_group(kindergarten, name="№10", birth_year=group.birth_year)
    parents = [await make_parent(language) for language in (Language.kk, Language.ru)]
    apps = [
        await make_application(city=city, choices=[(kindergarten, Language.ru)], applicant=p)
        for p in parents
    ]
    await make_staff(940, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 940)
    await staff.send("/release")
    # Natural order: "№3" before "№10" (as text "№10" sorts first).
    labels = staff.labels()
    assert labels.index(next(x for x in labels if "№3" in x)) < labels.index(
        next(x for x in labels if "№10" in x)
    )
    await staff.press("№3")
    await staff.press("3")
    await staff.press(fixed_part("As configured ({span})", "ru"))
    await staff.press(said("Release"))
    release = await SeatRelease.get()
    # The first parent takes a seat before the mistake is noticed: that referral stays.
    referral = await take_seat(apps[0].id, group.id, actor="parent", settings=settings)

    asked = await staff.press(said("Undo"))
    assert (
        fixed_part(
            "Undo this seat release? Seats withdrawn (nobody took them yet): "
            "{withdrawn} of {seats}.",
            "ru",
        )
        in asked
    )
    assert "2" in asked and "3" in asked
    assert fixed_part("Referrals already issued from this release stay valid: {kept}.", "ru") in (
        asked
    )
    assert await Seat.filter(release_id=release.id, status=SeatStatus.free).count() == 2

    done = await staff.press(said("Undo"))
    assert fixed_part("The seat release is undone. Seats withdrawn: {withdrawn}.", "ru") in done
    assert await Seat.filter(release_id=release.id, status=SeatStatus.free).count() == 0
    assert (await Seat.get(id=referral.seat_id)).status == SeatStatus.taken
    assert (await Offer.get(application_id=apps[1].id)).status == OfferStatus.lapsed
    (told,) = await _told(parents[1], "offer_withdrawn")
    assert f"№{apps[1].number}" in told
    assert not await _told(parents[0], "offer_withdrawn")
