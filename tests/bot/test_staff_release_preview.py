"""/release tells the truth before it acts: the preview counts the parents who can actually
receive the offer now (the core's own addressee selection), says plainly when nobody can, never
lets free seats exceed capacity minus what already fills the group, takes a typed count within
bounds, and has Back on every step (walkthrough findings 4 and 5)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.models import ApplicationStatus, Group, Offer, ReferralMode, SeatRelease, StaffRole
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.seats import releases
from tests.fixtures.bot import Parent
from tests.fixtures.seats import (
    cohort_year,
    make_city,
    make_group,
    make_kindergarten,
    make_queue,
)
from tests.fixtures.staff_texts import fixed_part, shown
from tests.fixtures.worker import make_staff


async def _to_confirmation(staff: Parent, kindergarten: str, group: str, count: str) -> str:
    await staff.send("/release")
    await staff.press(kindergarten)
    await staff.press(group)
    await staff.press(count)
    return await staff.press(shown("As configured", staff.chat.user.language_code or "ru"))


async def test_a_release_for_children_under_the_minimum_age_says_nobody_can_take_it(
    bot_app: Any, settings: Settings
) -> None:
    """The walkthrough's 2025 group: the preview promised a priority window that reached 0
    parents. Now it says nobody can receive the offer, and why, before anything happens."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_group(kindergarten, birth_year=cohort_year(1), name="Ясельная")
    await make_queue(city, kindergarten, 3, born=date(cohort_year(1), 3, 1))
    toddlers = await Group.get(name="Ясельная")
    preview = await releases.preview_release(toddlers.id, 1, settings=settings)
    assert (preview.addressees, preview.open_at_once) == (0, 1)
    assert preview.nobody_because == "too_young"
    await make_staff(951, StaffRole.operator, city=city)
    staff = Parent(bot_app, 951, "ru")

    asked = await _to_confirmation(staff, kindergarten.name_ru, "Ясельная", "1")

    nobody = (
        "Release {count} seat(s) in {kindergarten}, group: {group}?\n"
        "Nobody in this queue can receive the offer now ({why}): there is no priority "
        "window, the seats will open to everyone at once."
    )
    assert fixed_part(nobody, "ru") in asked
    assert (
        shown("the children of this group's birth year are under {min} years old", "ru", min=2)
        in asked
    )
    assert "only they may take" not in asked and "только они" not in asked


async def test_the_preview_counts_only_the_applications_that_can_take_a_referral_now(
    bot_app: Any, settings: Settings
) -> None:
    """Stop-listed and "from a later date" applications are not counted as addressees, and the
    release then offers exactly the seats the preview said."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    ready = await make_queue(city, kindergarten, 2)
    later = await make_queue(
        city,
        kindergarten,
        1,
        referral_mode=ReferralMode.from_date,
        referral_from=clock.now().date() + timedelta(days=60),
    )
    stopped = await make_queue(city, kindergarten, 1, status=ApplicationStatus.stop_listed)
    await make_staff(952, StaffRole.operator, city=city)
    staff = Parent(bot_app, 952, "ru")

    preview = await releases.preview_release(group.id, 4, settings=settings)
    assert (preview.addressees, preview.open_at_once) == (2, 2)

    asked = await _to_confirmation(staff, kindergarten.name_ru, group.name, "4")
    offered_to = (
        "Release {count} seat(s) in {kindergarten}, group: {group}?\n"
        "{addressees} application(s) first in the queue that can take a referral now "
        "({parents} parent(s)) are notified at once; only they may take these seats until "
        "{deadline}."
    )
    assert fixed_part(offered_to, "ru") in asked
    rest = shown(
        "Not enough applications can take a referral now: {rest} seat(s) open to everyone at once.",
        "ru",
        rest=2,
    )
    assert rest in asked
    assert not await SeatRelease.exists()  # a preview writes nothing

    await staff.press(shown("Release", "ru"))
    offered = {o.application_id for o in await Offer.all()}
    assert offered == {app.id for app in ready}
    assert not offered & {app.id for app in later + stopped}


async def test_an_application_holding_an_offer_of_the_group_is_not_counted_again(
    settings: Settings, db: None
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    first, second = await make_queue(city, kindergarten, 2)
    await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)

    preview = await releases.preview_release(group.id, 2, settings=settings)

    assert preview.addressees == 1  # only `second`: `first` already holds an offer here
    release = await releases.release_seats(group.id, 2, actor="staff:t", settings=settings)
    assert [o.application_id for o in await Offer.filter(release_id=release.id)] == [second.id]
    assert first.id != second.id


async def test_free_seats_never_exceed_capacity_minus_what_fills_the_group(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await Group.filter(id=group.id).update(capacity=3)
    await releases.release_seats(group.id, 2, actor="staff:t", settings=settings)

    with pytest.raises(DomainError) as refused:
        await releases.release_seats(group.id, 2, actor="staff:t", settings=settings)
    assert refused.value.reason == "over_capacity"
    assert refused.value.params["releasable"] == 1
    assert await SeatRelease.all().count() == 1

    await make_staff(953, StaffRole.operator, city=city)
    staff = Parent(bot_app, 953, "ru")
    await staff.send("/release")
    await staff.press(kindergarten.name_ru)
    screen = await staff.press(group.name)
    counts = [label for label in staff.buttons() if label.isdigit()]
    assert counts == ["1"]
    assert "3" in screen and "2" in screen  # capacity 3, 2 released and not taken yet
    refused_typed = await staff.send("5")
    assert shown("Please send a number from 1 to {max}.", "ru", max=1) in refused_typed
    assert not await releases.SeatRelease.filter(seats=5).exists()


async def test_a_full_group_offers_no_count_and_says_why(bot_app: Any, settings: Settings) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await Group.filter(id=group.id).update(capacity=1)
    await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
    await make_staff(954, StaffRole.operator, city=city)
    staff = Parent(bot_app, 954, "ru")
    await staff.send("/release")
    await staff.press(kindergarten.name_ru)
    screen = await staff.press(group.name)
    full = (
        "No seat of this group can be released now: its free seats, referrals and "
        "enrolled children already fill its capacity."
    )
    assert shown(full, "ru") in screen
    assert not [label for label in staff.buttons() if label.isdigit()]


async def test_a_typed_count_within_bounds_is_released(bot_app: Any, settings: Settings) -> None:
    """6-9 or 11+ seats needed several releases of buttons 1-5 and 10; now any number fits."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await make_staff(955, StaffRole.operator, city=city)
    staff = Parent(bot_app, 955, "ru")
    await staff.send("/release")
    await staff.press(kindergarten.name_ru)
    await staff.press(group.name)
    assert "25" in staff.buttons()  # "all that fit" in one press
    assert shown("Please send a number from 1 to {max}.", "ru", max=25) not in await staff.send("7")
    await staff.press(shown("None: open to general access at once", "ru"))
    await staff.press(shown("Release", "ru"))
    assert (await SeatRelease.get()).seats == 7
    for wrong in ("0", "26", "семь", "-3"):
        await staff.send("/release")
        await staff.press(kindergarten.name_ru)
        await staff.press(group.name)
        answer = await staff.send(wrong)
        assert shown("Please send a number from 1 to {max}.", "ru", max=18) in answer, wrong
    assert await SeatRelease.all().count() == 1


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_every_release_step_has_back_and_cancel(
    bot_app: Any, settings: Settings, language: str
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await make_staff(956, StaffRole.operator, city=city)
    staff = Parent(bot_app, 956, language)
    back, cancel = shown("Back", language), shown("Cancel", language)
    kg_name = kindergarten.name_ru if language == "ru" else kindergarten.name_kk

    await staff.send("/release")
    assert cancel in staff.buttons()
    await staff.press(kg_name)
    assert {back, cancel} <= set(staff.buttons())
    await staff.press(group.name)
    assert {back, cancel} <= set(staff.buttons())
    await staff.press("1")
    assert {back, cancel} <= set(staff.buttons())
    await staff.press(shown("1 day", language))
    assert {back, cancel} <= set(staff.buttons())
    # Back all the way to the kindergarten list, the same message edited each time.
    await staff.press(back)  # the window
    assert shown("1 day", language) in staff.buttons()
    await staff.press(back)  # the count
    assert "1" in staff.buttons()
    await staff.press(back)  # the group
    assert any(group.name in label for label in staff.buttons())
    await staff.press(back)  # the kindergarten
    assert kg_name in staff.buttons()
    closed = await staff.press(cancel)
    assert shown("Cancelled.", language) in closed
    assert not await SeatRelease.exists()


async def test_a_kindergarten_admin_starts_at_the_groups_with_cancel_but_no_back(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_group(kindergarten)
    await make_staff(957, StaffRole.kindergarten_admin, kindergarten=kindergarten, city=city)
    staff = Parent(bot_app, 957, "ru")
    await staff.send("/release")
    assert shown("Cancel", "ru") in staff.buttons()
    assert shown("Back", "ru") not in staff.buttons()
