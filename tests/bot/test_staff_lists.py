"""/protocol and /broadcasts are one message paged in place (◀ 1/2 ▶), each broadcast with the
first words of its text, its audience, author, status and counts; the benefit list filters by
the children's birth year, and a claim's card sends its uploaded document on request."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.models import (
    Application,
    BenefitStatus,
    Broadcast,
    DocumentKind,
    Language,
    StaffRole,
    Stream,
)
from core.people.applicants import create_document
from core.platform.settings import Settings
from core.seats.releases import release_seats
from tests.bot.test_staff import Staff
from tests.fixtures.seats import (
    cohort_year,
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
)
from tests.fixtures.staff_texts import fixed_part, shown
from tests.fixtures.worker import make_staff


def _methods(staff: Staff) -> list[str]:
    return [r.__api_method__ for r in staff.seen]


async def test_the_seat_protocol_is_one_message_paged_in_place(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    group = await make_group(await make_kindergarten(city))
    for _ in range(12):
        await release_seats(group.id, 1, actor="staff:test", settings=settings)
    await make_staff(980, StaffRole.operator, city=city)
    staff = Staff(bot_app, 980)

    first = await staff.send("/protocol seats")
    assert _methods(staff).count("sendMessage") == 1
    assert shown("<b>Seat release protocol</b> (found: {total})", "ru", total=12) in first
    assert "1/2" in staff.labels()

    second = await staff.press("▶")
    assert "sendMessage" not in _methods(staff) and "editMessageText" in _methods(staff)
    assert "2/2" in staff.labels() and "▶" not in staff.labels()
    assert second.count("\n\n") == 2  # the heading and the last 2 of 12 releases


async def test_broadcasts_show_an_excerpt_audience_author_and_counts_a_page_at_a_time(
    bot_app: Any,
) -> None:
    city = await make_city()
    author = await make_staff(981, StaffRole.operator, city=city, name="Айгерим")
    long_text = "Завтра детские сады закрыты на санитарный день, " * 3
    for n in range(6):
        await Broadcast.create(
            staff=author,
            text_kk=f"Хабарлама {n}",
            text_ru=long_text if n == 5 else f"Сообщение {n}",
            audience={"city": city.code, "birth_year": 2021, "status": "active"},
            status="done",
        )
    staff = Staff(bot_app, 981)

    page = await staff.send("/broadcasts")
    assert "1/2" in staff.labels()
    assert "Айгерим" in page and city.name_ru in page and "2021" in page
    assert "Завтра детские сады закрыты" in page and "…" in page  # the newest, cut short
    assert fixed_part("Audience: {audience}", "ru") in page
    assert "Сообщение 0" not in page

    older = await staff.press("▶")
    assert "Сообщение 0" in older and "editMessageText" in _methods(staff)
    await make_staff(983, StaffRole.superadmin)  # a superadmin sees everybody's, in Kazakh
    kazakh = await Staff(bot_app, 983, "kk").send("/broadcasts")
    assert "Хабарлама 5" in kazakh and "Айгерим" in kazakh


async def _claim(city: Any, kindergarten: Any, born: date) -> Application:
    return await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=await make_parent(),
        born=born,
        stream=Stream.extraordinary,
        benefit_status=BenefitStatus.pending,
    )


async def test_benefit_claims_filter_by_birth_year_and_a_claim_shows_its_document(
    bot_app: Any,
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    older = await _claim(city, kindergarten, date(cohort_year(4), 5, 1))
    younger = await _claim(city, kindergarten, date(cohort_year(2), 5, 1))
    document = await create_document(
        younger.applicant_id,
        DocumentKind.benefit,
        "FILE-younger",
        mime_type="application/pdf",
        file_name="certificate.pdf",
    )
    younger.benefit_document_id = document.id
    await younger.save(update_fields=["benefit_document_id"])
    await make_staff(982, StaffRole.operator, city=city)
    staff = Staff(bot_app, 982)

    await staff.send("/benefits")
    await staff.press(shown("Age", "ru"))
    assert f"{cohort_year(2)} (1)" in staff.labels() and f"{cohort_year(4)} (1)" in staff.labels()
    page = await staff.press(f"{cohort_year(2)} (1)")
    assert f"№{younger.number}" in page and f"№{older.number}" not in page

    await staff.press(f"№{younger.number}")
    await staff.press(shown("Show document", "ru"))
    (sent,) = [r for r in staff.seen if r.__api_method__ == "sendDocument"]
    assert sent.document == "FILE-younger" and str(younger.number) in (sent.caption or "")
    # The card stays as it was, with its decision buttons: nothing is edited.
    assert "editMessageText" not in _methods(staff)
