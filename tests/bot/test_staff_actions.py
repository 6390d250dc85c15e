"""Staff decisions that change a family's referral or benefit, driven by buttons: the preview
says what will happen and to whom, nothing changes before Confirm, Cancel changes nothing, a
reason is picked from a list (the parent reads it in their own language) or typed (the parent
reads it as typed), and the parent is told."""

from __future__ import annotations

from typing import Any

from bot.i18n import make_i18n
from bot.notifications.render import DECISION_REASONS, render
from core.models import (
    Applicant,
    Application,
    AuditEntry,
    BenefitStatus,
    Language,
    Notification,
    Referral,
    ReferralStatus,
    StaffRole,
    Stream,
)
from core.notifications.kinds import load
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats import releases
from tests.bot.test_staff import Staff
from tests.fixtures.seats import (
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
)
from tests.fixtures.worker import make_staff

MASKED_CHILD = "А***А А***"  # Ахметова Айгерим, as every fixture child is named


def said(msgid: str, language: str = "ru", **params: object) -> str:
    """What the bot shows for `msgid` in `language` with today's catalogs."""
    text = make_i18n().gettext(msgid, locale=language)
    return text.format(**params) if params else text


async def _referral(settings: Settings, parent_language: Language = Language.kk) -> Any:
    """A family (the parent reads `parent_language`) holding a referral in kindergarten №1."""
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    group = await make_group(kindergarten)
    parent = await make_parent(parent_language)
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)], applicant=parent)
    await releases.release_seats(group.id, 1, actor="staff:test", settings=settings)
    referral = await take_seat(app.id, group.id, actor="parent", settings=settings)
    return city, kindergarten, group, parent, app, referral


async def _told(parent: Applicant, kind: str) -> list[str]:
    """What the parent reads of each notification of `kind`, in the parent's language."""
    rows = await Notification.filter(applicant_id=parent.id, kind=kind).order_by("id")
    return [render(load(row.kind, row.params), str(parent.language)).text for row in rows]


async def test_enrolment_shows_the_child_and_place_first_and_tells_the_parent(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, parent, app, referral = await _referral(settings)
    await make_staff(920, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 920)

    preview = await staff.send(f"/enroll {referral.number}")
    assert said("Enrol the child on referral #{number}?", number=referral.number) in preview
    assert MASKED_CHILD in preview and "Ахметова" not in preview
    assert f"№{app.number}" in preview and kindergarten.name_ru in preview
    assert "Средняя группа" in preview
    notified = (
        "The referral is marked used and the application leaves the queue. "
        "The parent will be notified."
    )
    assert said(notified) in preview
    # Nothing happened yet.
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    assert not await Notification.filter(kind="referral_enrolled").exists()

    done = await staff.press("Подтвердить")
    assert referral.number in done
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.enrolled
    (told,) = await _told(parent, "referral_enrolled")
    assert referral.number in told and kindergarten.name_kk in told  # the Kazakh name
    enrolled = "Referral {number}: the kindergarten has enrolled the child."
    assert said(enrolled, "kk", number=f"<b>№{referral.number}</b>") in told
    # Pressing Confirm again on the closed preview changes nothing more.
    assert await Notification.filter(kind="referral_enrolled").count() == 1


async def test_cancel_leaves_the_referral_as_it_was(bot_app: Any, settings: Settings) -> None:
    _city, kindergarten, _group, _parent, _app, referral = await _referral(settings)
    await make_staff(921, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 921)

    await staff.send(f"/enroll {referral.number}")
    assert said("Cancelled. Nothing was changed.") in await staff.press("Отмена")
    await staff.send(f"/revoke {referral.number}")
    assert "Отмена" in staff.labels()  # the reason question has a way out
    await staff.press("Отмена")

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    assert not await Notification.filter(
        kind__in=["referral_enrolled", "referral_revoked"]
    ).exists()
    assert not await AuditEntry.filter(
        action__in=["referral.enrolled", "referral.revoked"]
    ).exists()


async def test_a_revocation_reason_picked_from_the_list_reaches_the_parent_in_kazakh(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, parent, app, referral = await _referral(settings, Language.kk)
    await make_staff(922, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 922)

    asked = await staff.send(f"/revoke {referral.number}")
    assert MASKED_CHILD in asked and f"№{app.number}" in asked
    reason = DECISION_REASONS["documents_not_provided"]
    assert said(reason) in staff.labels()
    assert said("Other: type the reason") in staff.labels()
    preview = await staff.press(said(reason))
    assert said(reason) in preview and said("Revoke referral #{number}?", number=referral.number)
    # Back returns to the reasons; nothing was revoked on the way.
    await staff.press("Назад")
    assert said(reason) in staff.labels()
    await staff.press(said(reason))
    await staff.press("Подтвердить")

    assert (await Referral.get(id=referral.id)).status == ReferralStatus.revoked
    (told,) = await _told(parent, "referral_revoked")
    assert referral.number in told
    assert said(reason, "kk") in told  # the parent's language, not the staff member's
    entry = await AuditEntry.get(action="referral.revoked")
    assert entry.actor.startswith("staff:")


async def test_a_typed_revocation_reason_reaches_the_parent_as_typed(
    bot_app: Any, settings: Settings
) -> None:
    _city, kindergarten, _group, parent, _app, referral = await _referral(settings, Language.ru)
    await make_staff(923, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 923)

    await staff.send(f"/revoke {referral.number}")
    await staff.press(said("Other: type the reason"))
    preview = await staff.send("Медкарта <неполная>")
    assert "Медкарта &lt;неполная&gt;" in preview
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
    await staff.press("Подтвердить")

    (told,) = await _told(parent, "referral_revoked")
    assert "Медкарта &lt;неполная&gt;" in told


async def test_another_kindergartens_referral_is_refused_before_any_preview(
    bot_app: Any, settings: Settings
) -> None:
    city, _kindergarten, _group, _parent, _app, referral = await _referral(settings)
    other = await make_kindergarten(city, 2)
    await make_staff(924, StaffRole.kindergarten_admin, kindergarten=other)
    staff = Staff(bot_app, 924)

    for command in (f"/enroll {referral.number}", f"/revoke {referral.number} ошибка"):
        shown = await staff.send(command)
        assert "вне вашей зоны ответственности" in shown, shown
        assert MASKED_CHILD not in shown and not staff.labels()
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment


async def _pending_benefit(parent_language: Language = Language.kk) -> Any:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    parent = await make_parent(parent_language)
    application = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        stream=Stream.extraordinary,
        benefit_status=BenefitStatus.pending,
    )
    application.benefit_category = 4
    await application.save()
    return kindergarten, parent, application


async def test_a_benefit_confirmation_asks_first(bot_app: Any, settings: Settings) -> None:
    kindergarten, parent, application = await _pending_benefit()
    await make_staff(925, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 925)

    await staff.send("/benefits")
    await staff.press(f"1. №{application.number}")
    asked = await staff.press("Подтвердить")
    assert f"{application.number}?" in asked and MASKED_CHILD in asked
    assert (await Application.get(id=application.id)).benefit_status == BenefitStatus.pending
    await staff.press("Подтвердить")
    assert (await Application.get(id=application.id)).benefit_status == BenefitStatus.confirmed
    (told,) = await _told(parent, "benefit_confirmed")
    assert f"№{application.number}" in told


async def test_a_benefit_rejection_offers_reasons_and_a_cancel_and_tells_the_parent(
    bot_app: Any, settings: Settings
) -> None:
    """The walkthrough: "болдырмау" ("cancel") typed at the reason prompt was sent to the parent
    as the reason. Now the prompt has Cancel, and the reason is confirmed before it is sent."""
    kindergarten, parent, application = await _pending_benefit(Language.kk)
    await make_staff(926, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 926)

    await staff.send("/benefits")
    await staff.press(f"1. №{application.number}")
    await staff.press("Отклонить")
    assert "Отмена" in staff.labels()
    assert said("Cancelled. Nothing was changed.") in await staff.press("Отмена")
    assert (await Application.get(id=application.id)).benefit_status == BenefitStatus.pending

    await staff.send("/benefits")
    await staff.press(f"1. №{application.number}")
    stale_reject = staff.data_of("Отклонить")
    await staff.press("Отклонить")
    reason = DECISION_REASONS["false_benefit_document"]
    preview = await staff.press(said(reason))
    assert said(reason) in preview and f"{application.number}?" in preview
    assert (await Application.get(id=application.id)).benefit_status == BenefitStatus.pending
    await staff.press("Отклонить")

    decided = await Application.get(id=application.id)
    assert decided.benefit_status == BenefitStatus.rejected and decided.stream == Stream.general
    (told,) = await _told(parent, "benefit_rejected")
    assert said(reason, "kk") in told
    # Reject pressed again on the old card is refused at once, not after a reason.
    assert "Эта кнопка устарела" in await staff.forge(stale_reject)
    assert await Notification.filter(kind="benefit_rejected").count() == 1


async def test_a_forged_reason_button_is_refused(bot_app: Any, settings: Settings) -> None:
    _city, kindergarten, _group, _parent, _app, referral = await _referral(settings)
    await make_staff(927, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    staff = Staff(bot_app, 927)

    await staff.send(f"/revoke {referral.number}")
    for item in ("abc", "false_benefit_document", "other2"):
        assert "Эта кнопка устарела" in await staff.forge(staff.widget("why", item))
    assert (await Referral.get(id=referral.id)).status == ReferralStatus.awaiting_enrollment
