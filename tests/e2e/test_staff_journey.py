"""Staff work by buttons through the whole stack (sandbox Telegram, worker running), and the
parents, one reading Kazakh and one Russian, receive every outcome in their language: a release
offers them seats and its Undo withdraws them (their place kept); an enrolment and its Undo; a
revocation with a reason picked from the list; a benefit confirmed, and one rejected with a
picked reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.models import Application, BenefitStatus, Referral, Stream
from core.people import staff as staff_service
from core.platform.settings import Settings
from core.referrals.take import take_seat
from devtools.client import E2EClient
from devtools.stack import Stack, run_stack
from tests.e2e.test_push import expect_offer, fixed, parent
from tests.fixtures.e2e_cabinet import city_and_kindergarten, press_containing, t
from tests.fixtures.seats import make_group
from tests.fixtures.staff_texts import fixed_part

pytestmark = pytest.mark.e2e

STAFF_ID = 748000
CLAIMS = fixed_part("<b>Benefit claims waiting for a decision: {total}</b>", "ru").strip("<b>")


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=True) as running:
        yield running


async def _release(staff: E2EClient, kindergarten: str, group: str) -> None:
    """/release by buttons: the kindergarten, the group, 2 seats, the configured window."""
    await staff.send("/release")
    await staff.expect(t("Release seats. Choose the kindergarten:", "ru"))
    await press_containing(staff, kindergarten)
    await staff.expect(t("Choose the group:", "ru"))
    await press_containing(staff, group)
    await staff.expect(fixed("How many seats are free?", "ru"))
    await staff.press("2")
    await staff.expect(t("Priority window for the first applications in the queue:", "ru"))
    await press_containing(staff, fixed("As configured ({span})", "ru"))
    await staff.expect(
        fixed("Release {count} seat(s) in {kindergarten}, group: {group}?\n{addressees}", "ru")
    )
    await staff.press(t("Release", "ru"))
    await staff.expect(fixed("Released {seats} seat(s).", "ru"))


async def _pending_benefit(app: Application) -> None:
    """The parent claimed an extraordinary benefit (the wizard's part is tested elsewhere)."""
    app.stream, app.benefit_category = Stream.extraordinary, 4
    app.benefit_status = BenefitStatus.pending
    await app.save(update_fields=["stream", "benefit_category", "benefit_status"])


async def test_staff_decisions_by_buttons_reach_the_parents_in_their_language(
    stack: Stack, settings: Settings
) -> None:
    city, kindergarten = await city_and_kindergarten()
    kk, _, kk_app = await parent(stack, settings, 748001, "kk")
    ru, _, ru_app = await parent(stack, settings, 748002, "ru")
    group = await make_group(kindergarten, birth_year=kk_app.birth_year)
    await staff_service.add_staff(STAFF_ID, "operator", city_code=city.code, name="Оператор")
    staff = stack.client(STAFF_ID, language_code="ru")

    # A release made by mistake: both parents are offered a seat, then the Undo withdraws it.
    await _release(staff, kindergarten.name_ru, group.name)
    for client, lang, app in ((kk, "kk", kk_app), (ru, "ru", ru_app)):
        await expect_offer(client, lang, app.number)
    await staff.press(t("Undo", "ru"))
    await staff.expect(
        fixed_part(
            "Offers that lapse: {lapsed}. Those parents will be told the seat is gone; their "
            "place in the queue is kept.",
            "ru",
        )
    )
    await staff.press(t("Undo", "ru"))
    await staff.expect(
        fixed_part("The seat release is undone. Seats withdrawn: {withdrawn}.", "ru")
    )
    for client, lang, app in ((kk, "kk", kk_app), (ru, "ru", ru_app)):
        withdrawn = await client.expect(fixed("The seat offered for application", lang), timeout=20)
        assert f"№{app.number}" in withdrawn.text
        assert t("Your application keeps its place in the queue.", lang) in withdrawn.text

    # Released again; both take their seat (the parents' side is tested in test_push.py).
    await _release(staff, kindergarten.name_ru, group.name)
    kk_ref = await take_seat(kk_app.id, group.id, actor="parent", settings=settings)
    ru_ref = await take_seat(ru_app.id, group.id, actor="parent", settings=settings)
    await kk.expect(kk_ref.number, timeout=20)
    await ru.expect(ru_ref.number, timeout=20)

    # Enrolment and its Undo: the kk parent reads both.
    await staff.send(f"/enroll {kk_ref.number}")
    await staff.expect(t("Enrol the child on referral #{number}?", "ru", number=kk_ref.number))
    await staff.press(t("Confirm", "ru"))
    await staff.expect(
        t(
            "Referral #{number}: the child is enrolled; the parent is notified.",
            "ru",
            number=kk_ref.number,
        )
    )
    enrolled = "Referral {number}: the kindergarten has enrolled the child."
    assert kk_ref.number in (await kk.expect(fixed_part(enrolled, "kk"), timeout=20)).text
    await staff.press(t("Undo", "ru"))
    await staff.expect(
        fixed_part("Undo the enrolment on referral #{number}? The parent will be told.", "ru")
    )
    await staff.press(t("Undo", "ru"))
    undone = "Referral {number}: the enrolment was marked by mistake and has been undone."
    await kk.expect(fixed_part(undone, "kk"), timeout=20)

    # A revocation with a reason picked from the list: the ru parent reads the reason.
    await staff.send(f"/revoke {ru_ref.number}")
    why = "Why is referral #{number} revoked? Choose the reason the parent will read:"
    await staff.expect(t(why, "ru", number=ru_ref.number))
    await staff.press(t("The documents were not provided.", "ru"))
    await staff.expect(t("Revoke referral #{number}?", "ru", number=ru_ref.number))
    await staff.press(t("Confirm", "ru"))
    revoked = await ru.expect(fixed("Referral {number} is revoked", "ru"), timeout=20)
    assert t("The documents were not provided.", "ru") in revoked.text
    assert (await Referral.get(id=ru_ref.id)).status == "revoked"

    # Benefits: the kk one confirmed, the ru one rejected with a picked reason.
    await _pending_benefit(kk_app)
    await _pending_benefit(ru_app)
    await staff.send("/benefits")
    await staff.expect(CLAIMS)
    await press_containing(staff, f"№{kk_app.number}")
    await staff.expect(t("Application: #{number}", "ru", number=kk_app.number))
    await staff.press(t("Confirm", "ru"))
    await staff.expect(
        fixed_part("Confirm the benefit «{benefit}» for application #{number}?", "ru")
    )
    await staff.press(t("Confirm", "ru"))
    confirmed = t(
        "The benefit of application {number} is confirmed.", "kk", number=f"№{kk_app.number}"
    )
    await kk.expect(confirmed, timeout=20)
    await staff.expect(CLAIMS)
    await press_containing(staff, f"№{ru_app.number}")
    await staff.expect(t("Application: #{number}", "ru", number=ru_app.number))
    await staff.press(t("Reject", "ru"))
    await staff.expect(t("Application: #{number}", "ru", number=ru_app.number))  # the reasons
    await staff.press(t("The benefit document is not genuine.", "ru"))
    await staff.expect(fixed_part("Reject the benefit «{benefit}» of application #{number}?", "ru"))
    await staff.press(t("Reject", "ru"))
    rejected = await ru.expect(
        t(
            "The benefit of application {number} is not confirmed.",
            "ru",
            number=f"№{ru_app.number}",
        ),
        timeout=20,
    )
    assert t("The benefit document is not genuine.", "ru") in rejected.text
