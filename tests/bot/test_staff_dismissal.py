"""/dismiss: a kindergarten records that an enrolled child has left. The staff member finds the
child by the referral's or the application's number, picks why (or types it), sees whom it
touches (the child masked) before anything changes, and may undo it; refusals come before any
preview, each saying why; the parent is told in their own language; /release may then release
the seat the child filled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.notifications.sms import DEPARTURE_REASONS
from bot.texts.formats import fmt_date
from core.models import (
    AuditEntry,
    Departure,
    Language,
    Notification,
    Referral,
    ReferralStatus,
    StaffRole,
)
from core.platform import clock
from core.platform.dates import local_today
from core.platform.settings import Settings
from core.referrals.lifecycle import enroll
from core.seats.releases import group_seats
from tests.bot.test_staff import Staff
from tests.bot.test_staff_actions import MASKED_CHILD, _referral, _told, said
from tests.fixtures.seats import make_kindergarten
from tests.fixtures.worker import make_staff


async def _enrolled(settings: Settings, parent_language: Language = Language.kk) -> Any:
    city, kindergarten, group, parent, app, referral = await _referral(settings, parent_language)
    await enroll(referral.id, actor="staff:test")
    return city, kindergarten, group, parent, app, referral


async def test_a_departure_picked_from_the_list_is_previewed_then_told_to_the_parent_in_kazakh(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, group, parent, app, referral = await _enrolled(settings, Language.kk)
    await make_staff(940, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 940)
    before = (await group_seats(group)).releasable

    asked = await staff.send(f"/dismiss {referral.number}")
    question = "Why did the child on referral #{number} leave the kindergarten?"
    assert said(question, number=referral.number) in asked
    assert MASKED_CHILD in asked and "Ахметова" not in asked and f"№{app.number}" in asked
    school = DEPARTURE_REASONS["went_to_school"]
    assert said(school) in staff.labels() and said("Other: type the reason") in staff.labels()
    assert "Отмена" in staff.labels()

    preview = await staff.press(said(school))
    record = "Record that the child on referral #{number} has left the kindergarten?"
    assert said(record, number=referral.number) in preview and said(school) in preview
    assert MASKED_CHILD in preview and kindergarten.name_ru in preview
    # Back returns to the reasons; nothing changed on the way.
    await staff.press("Назад")
    assert said(school) in staff.labels()
    await staff.press(said(school))
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
    assert not await Notification.filter(kind="referral_dismissed").exists()

    done = await staff.press("Подтвердить")
    assert referral.number in done and said("Undo") in staff.labels()
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.departed
    assert (await group_seats(group)).releasable == before + 1
    (told,) = await _told(parent, "referral_dismissed")
    assert said(school, "kk") in told and kindergarten.name_kk in told
    heading = "Referral {number}: the kindergarten recorded that the child has left it."
    assert said(heading, "kk", number=f"<b>№{referral.number}</b>") in told
    entry = await AuditEntry.get(action="referral.departed")
    assert entry.actor.startswith("staff:")


async def test_a_typed_reason_and_the_application_number_find_the_child(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, parent, app, referral = await _enrolled(settings, Language.ru)
    await make_staff(941, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 941)

    await staff.send(f"/dismiss {app.number}")
    await staff.press(said("Other: type the reason"))
    preview = await staff.send("Перевод <в санаторий>")
    assert "Перевод &lt;в санаторий&gt;" in preview
    await staff.press("Подтвердить")

    (told,) = await _told(parent, "referral_dismissed")
    assert "Перевод &lt;в санаторий&gt;" in told and "выбыл из детского сада" in told
    assert (await Departure.get(referral_id=referral.id)).note == "Перевод <в санаторий>"


async def test_refusals_come_before_any_preview_with_their_reason(
    bot_app: Any, settings: Settings
) -> None:
    city, kindergarten, _group, _parent, _app, referral = await _referral(settings)
    await make_staff(942, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    other = await make_kindergarten(city, 2)
    await make_staff(943, StaffRole.kindergarten_admin, kindergarten=other)
    staff, outsider = Staff(bot_app, 942), Staff(bot_app, 943)

    # Not enrolled yet: the referral waits for the enrolment.
    shown = await staff.send(f"/dismiss {referral.number}")
    not_enrolled = (
        "The child is not enrolled on referral #{number}, so a departure cannot be recorded."
    )
    assert said(not_enrolled, number=referral.number) in shown
    assert MASKED_CHILD not in shown and not staff.labels()
    await enroll(referral.id, actor="staff:test")
    # Outside the staff member's scope.
    shown = await outsider.send(f"/dismiss {referral.number}")
    assert "вне вашей зоны ответственности" in shown and not outsider.labels()
    # Twice: the second time names the departure already recorded.
    await staff.send(f"/dismiss {referral.number}")
    await staff.press(said(DEPARTURE_REASONS["moved_away"]))
    await staff.press("Подтвердить")
    shown = await staff.send(f"/dismiss {referral.number}")
    assert "уже выбыл" in shown and not staff.labels()
    # ... and the date the child left, as staff read a date
    assert fmt_date(local_today(settings), "ru") in shown and "?" not in shown
    assert said("Usage: /dismiss NUMBER (the referral or application number)") in (
        await staff.send("/dismiss")
    )
    assert await Departure.all().count() == 1


async def test_a_departure_is_undone_from_its_result_after_a_confirmation(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, parent, _app, referral = await _enrolled(settings, Language.ru)
    await make_staff(944, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 944)
    await staff.send(f"/dismiss {referral.number}")
    await staff.press(said(DEPARTURE_REASONS["health"]))
    await staff.press("Подтвердить")

    asked = await staff.press(said("Undo"))
    question = (
        "Undo the departure of the child on referral #{number}? The child will be enrolled "
        "again. The parent will be told."
    )
    assert said(question, number=referral.number) in asked
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.departed  # not yet
    done = await staff.press(said("Undo"))
    assert referral.number in done
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
    (told,) = await _told(parent, "referral_dismissal_undone")
    assert referral.number in told and "снова зачислен" in told


async def test_cancel_changes_nothing(bot_app: Any, settings: Settings) -> None:
    _city, kindergarten, _group, _parent, _app, referral = await _enrolled(settings)
    await make_staff(945, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 945)

    await staff.send(f"/dismiss {referral.number}")
    assert said("Cancelled. Nothing was changed.") in await staff.press("Отмена")

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
    assert not await AuditEntry.filter(action="referral.departed").exists()


async def test_another_date_of_leaving_is_typed_and_checked(
    bot_app: Any, settings: Settings
) -> None:
    """The child left a few days before the kindergarten records it: the day is typed; a day
    before the enrolment or a day that is not a date is refused and asked again."""
    _city, kindergarten, _group, _parent, _app, referral = await _enrolled(settings, Language.ru)
    await make_staff(946, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 946)
    enrolled_on = local_today(settings)

    with clock.travel(timedelta(days=3)):
        await staff.send(f"/dismiss {referral.number}")
        await staff.press(said(DEPARTURE_REASONS["parent_request"]))
        await staff.press(said("Another date of leaving"))
        for typed in ("вчера", "31.02.2026"):  # not a date, or no such day
            refused = await staff.send(typed)
            assert "Это не дата" in refused, refused
            assert local_today(settings).strftime("%d.%m.%Y") in refused
        before = (enrolled_on - timedelta(days=1)).strftime("%d.%m.%Y")
        assert "Дата выбытия должна быть с" in await staff.send(before)
        left_on = enrolled_on + timedelta(days=1)
        preview = await staff.send(left_on.strftime("%d.%m.%Y"))
        assert said("Date of leaving: {date}", date=fmt_date(left_on, "ru")) in preview
        await staff.press("Подтвердить")

    assert (await Departure.get(referral_id=referral.id)).left_on == left_on
