"""The "Undo" button under a staff decision's result: it asks first, then undoes, and the
parent is told; a forged button is refused as outdated and changes nothing."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup

from bot.callbacks import UndoCb
from core.models import (
    Application,
    ApplicationStatus,
    BenefitStatus,
    Notification,
    Referral,
    ReferralStatus,
    StaffRole,
)
from core.platform.settings import Settings
from tests.bot.test_staff import Staff
from tests.bot.test_staff_actions import _pending_benefit, _referral, _told, said
from tests.fixtures.worker import make_staff


async def test_an_enrolment_is_undone_from_its_result_after_a_confirmation(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, parent, app, referral = await _referral(settings)
    await make_staff(930, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 930)
    await staff.send(f"/enroll {referral.number}")
    await staff.press("Подтвердить")

    asked = await staff.press(said("Undo"))
    question = "Undo the enrolment on referral #{number}? The parent will be told."
    assert said(question, number=referral.number) in asked
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled  # not yet

    done = await staff.press(said("Undo"))
    assert referral.number in done
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    assert (await Application.get(id=app.id)).status == ApplicationStatus.active
    (told,) = await _told(parent, "referral_enrolment_undone")
    assert referral.number in told


async def test_a_revocation_is_undone_and_keep_changes_nothing(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, parent, _app, referral = await _referral(settings)
    await make_staff(931, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 931)
    await staff.send(f"/revoke {referral.number} ошибка")
    await staff.press("Подтвердить")

    await staff.press(said("Undo"))
    assert said("Nothing was undone.") in await staff.press(said("Keep it"))
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.revoked

    await staff.press(said("Undo"))
    await staff.press(said("Undo"))
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    assert len(await _told(parent, "referral_revocation_undone")) == 1


async def test_a_benefit_decision_is_undone(bot_app: Any, settings: Settings) -> None:
    kindergarten, parent, application = await _pending_benefit()
    await make_staff(932, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 932)
    await staff.send("/benefits")
    await staff.press(f"1. №{application.number}")  # the claim, from the one-message list
    await staff.press("Подтвердить")
    await staff.press("Подтвердить")
    # The outcome (with Undo) stays in the decision's message; the list comes back below it.
    outcome = [
        button.callback_data
        for request in staff.seen
        if isinstance(getattr(request, "reply_markup", None), InlineKeyboardMarkup)
        for row in request.reply_markup.inline_keyboard
        for button in row
        if button.text == said("Undo")
    ]
    assert len(outcome) == 1
    staff.seen = await staff.chat.press(outcome[0])

    await staff.press(said("Undo"))
    assert (await Application.get(id=application.id)).benefit_status == BenefitStatus.pending
    assert len(await _told(parent, "benefit_decision_undone")) == 1


async def test_a_forged_undo_button_is_refused_as_outdated(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, _parent, _app, referral = await _referral(settings)
    await make_staff(933, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 933)
    await staff.send(f"/enroll {referral.number}")
    await staff.press("Подтвердить")

    for row in (referral.id + 1000, 2**31 - 1):
        forged = UndoCb(what="enrol", step="do", row=row).pack()
        assert "Эта кнопка устарела" in await staff.forge(forged)
    # Out of bounds: no button of ours, the same answer.
    assert "устарела" in await staff.forge(f"sundo:enrol:do:{2**40}")
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
    assert not await Notification.filter(kind="referral_enrolment_undone").exists()
