"""Staff hear of a new complaint in the bot at once, in the language they chose there: the
anti-corruption officer of the city (and only that officer) of a corruption report, with
nothing of an anonymous parent; the city's education department of a complaint about a
kindergarten. A staff member who never opened the bot is skipped."""

from __future__ import annotations

from core.complaints import filing
from core.models import ComplaintCategory, Language, StaffMember, StaffRole
from core.people.applicants import get_or_create_applicant
from core.platform.settings import Settings
from tests.fixtures.e2e_cabinet import t
from tests.fixtures.queue import (
    make_application,
    make_child,
    make_city,
    make_kindergarten,
    make_parent,
)
from tests.fixtures.worker import SandboxTelegram, make_staff
from tests.service.test_notice_channel import FakeSms
from tests.service.test_notification_language import deliver

PARENT = 5101
OFFICER_KK, OFFICER_ELSEWHERE, OPERATOR_RU, OPERATOR_ELSEWHERE, SUPERADMIN, ADMIN = (
    5201,
    5202,
    5203,
    5204,
    5205,
    5206,
)
NEVER_OPENED_THE_BOT = 5207


async def _staff(tg: int, role: StaffRole, language: Language, **scope: object) -> StaffMember:
    """A staff member who has opened the bot (their chat exists) in `language`."""
    await get_or_create_applicant(tg, language=language)
    return await make_staff(tg, role, **scope)


async def test_the_officer_and_the_department_of_the_city_are_told_of_a_new_complaint_in_the_bot(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    city = await make_city()
    other_city = await make_city("almaty")
    kindergarten = await make_kindergarten(city, 7)
    parent = await make_parent(telegram_user_id=PARENT, last_name="Сейтказиева")
    child = await make_child(parent)
    await make_application(
        applicant=parent, child=child, city=city, choices=[(kindergarten, Language.ru)]
    )
    await _staff(OFFICER_KK, StaffRole.anticorruption, Language.kk, city_id=city.id)
    await _staff(OFFICER_ELSEWHERE, StaffRole.anticorruption, Language.ru, city_id=other_city.id)
    await _staff(OPERATOR_RU, StaffRole.operator, Language.ru, city_id=city.id)
    await _staff(OPERATOR_ELSEWHERE, StaffRole.operator, Language.ru, city_id=other_city.id)
    await _staff(SUPERADMIN, StaffRole.superadmin, Language.ru)
    await _staff(ADMIN, StaffRole.kindergarten_admin, Language.ru, kindergarten_id=kindergarten.id)
    await make_staff(NEVER_OPENED_THE_BOT, StaffRole.anticorruption, city_id=city.id)

    report = await filing.file_complaint(
        parent, ComplaintCategory.corruption, "Просят деньги за место", settings, anonymous=True
    )
    await deliver(settings, telegram_sandbox.url, FakeSms())
    told = telegram_sandbox.texts
    assert set(told) == {PARENT, OFFICER_KK}  # the parent's "registered", the officer's push
    (officer_push,) = told[OFFICER_KK]
    assert t("A new complaint for you to answer: {number}.", "kk", number="").strip(" .") in (
        officer_push
    )
    assert f"№{report.number}" in officer_push
    assert t("Report of corruption", "kk") in officer_push
    assert "/complaints" in officer_push
    assert "Сейтказиева" not in officer_push and "Просят" not in officer_push

    about_kindergarten = await filing.file_complaint(
        parent,
        ComplaintCategory.kindergarten,
        "Группа переполнена",
        settings,
        kindergarten_id=kindergarten.id,
    )
    await deliver(settings, telegram_sandbox.url, FakeSms())
    told = telegram_sandbox.texts
    assert set(told) == {PARENT, OFFICER_KK, OPERATOR_RU}
    (operator_push,) = told[OPERATOR_RU]
    assert f"№{about_kindergarten.number}" in operator_push
    assert t("Complaint about a kindergarten", "ru") in operator_push
    assert len(told[OFFICER_KK]) == 1
