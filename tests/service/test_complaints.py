"""Complaints: a parent files one with a number and a deadline in working days; it reaches only
the staff who answer that kind (a kindergarten never its own, corruption only the officer); an
anonymous report never shows the parent; the answer and every step reach the parent; overdue
ones go to the superadmin; bad input is refused with a reason and nothing is stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tortoise import connections

from bot.notifications.render import render
from core.calendar.working_days import add_working_days
from core.complaints import figures, filing, handling
from core.complaints.filing import Attachment
from core.models import (
    AuditEntry,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Language,
    Notification,
    StaffRole,
)
from core.notifications.kinds import load
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from tests.fixtures.queue import (
    make_application,
    make_child,
    make_city,
    make_kindergarten,
    make_parent,
)
from tests.fixtures.worker import make_staff


@pytest.fixture
async def family(db: None) -> dict[str, Any]:
    city = await make_city()
    other_city = await make_city("almaty")
    kindergarten = await make_kindergarten(city, 7)
    elsewhere = await make_kindergarten(other_city, 9)
    parent = await make_parent(telegram_user_id=5001)
    child = await make_child(parent)
    application = await make_application(
        applicant=parent, child=child, city=city, choices=[(kindergarten, Language.ru)]
    )
    return {
        "city": city,
        "other_city": other_city,
        "kindergarten": kindergarten,
        "elsewhere": elsewhere,
        "parent": parent,
        "application": application,
    }


async def kinds_of(parent_id: int) -> list[str]:
    return [
        n.kind
        for n in await Notification.filter(applicant_id=parent_id).order_by("id")
        if n.kind.startswith("complaint")
    ]


async def test_a_complaint_gets_a_number_a_deadline_in_working_days_and_the_parent_is_told(
    family: dict[str, Any], settings: Settings
) -> None:
    complaint = await filing.file_complaint(
        family["parent"],
        ComplaintCategory.kindergarten,
        "  Воспитатель требует деньги на ремонт.  ",
        settings,
        kindergarten_id=family["kindergarten"].id,
    )
    second = await filing.file_complaint(
        family["parent"], ComplaintCategory.department, "Не отвечают на звонки", settings
    )
    assert second.number == complaint.number + 1
    assert complaint.text == "Воспитатель требует деньги на ремонт."
    expected = add_working_days(
        complaint.created_at, settings.complaint_answer_working_days, settings.tz
    )
    assert abs(complaint.deadline - expected) < timedelta(seconds=5)
    assert complaint.city_id == family["city"].id
    assert await kinds_of(family["parent"].id) == ["complaint_registered"] * 2
    row = await Notification.filter(kind="complaint_registered").order_by("id").first()
    assert row is not None
    text = render(load(row.kind, row.params), "kk", tz=settings.tz).text
    assert f"№{complaint.number}" in text


@pytest.mark.parametrize(
    ("text", "reason"),
    [("   ", Reason.complaint_empty), ("я" * 2001, Reason.complaint_too_long)],
    ids=["empty", "too-long"],
)
async def test_an_empty_or_too_long_complaint_is_refused_and_nothing_is_stored(
    family: dict[str, Any], settings: Settings, text: str, reason: Reason
) -> None:
    with pytest.raises(DomainError) as refused:
        await filing.file_complaint(family["parent"], "department", text, settings)
    assert refused.value.reason == reason
    assert await Complaint.all().count() == 0
    assert await kinds_of(family["parent"].id) == []


@pytest.mark.parametrize(
    "attachment",
    [
        Attachment("file-1", "application/zip", "docs.zip"),
        Attachment("file-2", "video/mp4", "clip.mp4"),
        Attachment("file-3", "image/jpeg", "", 25 * 1024 * 1024),
        Attachment("", "image/jpeg"),
    ],
    ids=["zip", "video", "too-big", "no-file"],
)
async def test_a_file_that_is_not_a_photo_or_pdf_is_refused(
    family: dict[str, Any], settings: Settings, attachment: Attachment
) -> None:
    with pytest.raises(DomainError) as refused:
        await filing.file_complaint(
            family["parent"], "department", "Текст жалобы", settings, attachment=attachment
        )
    assert refused.value.reason == Reason.complaint_file_type
    assert await Complaint.all().count() == 0


async def test_a_pdf_or_photo_is_kept_with_the_complaint(
    family: dict[str, Any], settings: Settings
) -> None:
    complaint = await filing.file_complaint(
        family["parent"],
        "department",
        "Смотрите приложенный ответ",
        settings,
        attachment=Attachment("pdf-id", "", "answer.PDF", 1000),
    )
    staff = await make_staff(1, StaffRole.superadmin)
    view = await handling.view_of(staff, complaint.id)
    assert view.attachment_file_id == "pdf-id"


async def test_a_forged_subject_or_kindergarten_of_another_family_is_refused(
    family: dict[str, Any], settings: Settings
) -> None:
    stranger = await make_parent(telegram_user_id=5002, last_name="Бекова")
    with pytest.raises(DomainError) as refused:
        await filing.file_complaint(
            stranger,
            "department",
            "Текст",
            settings,
            subject=("application", family["application"].id),
        )
    assert refused.value.reason == Reason.complaint_subject_not_found
    with pytest.raises(DomainError) as refused:
        await filing.file_complaint(
            family["parent"],
            "kindergarten",
            "Текст",
            settings,
            kindergarten_id=family["elsewhere"].id,
        )
    assert refused.value.reason == Reason.complaint_no_kindergarten
    with pytest.raises(DomainError) as refused:
        await filing.file_complaint(
            family["parent"], "department", "Текст", settings, anonymous=True
        )
    assert refused.value.reason == Reason.complaint_anonymous_category
    assert await Complaint.all().count() == 0


async def test_each_complaint_reaches_only_the_staff_who_answer_it(
    family: dict[str, Any], settings: Settings
) -> None:
    parent, city = family["parent"], family["city"]
    about_kg = await filing.file_complaint(
        parent, "kindergarten", "Грубость", settings, kindergarten_id=family["kindergarten"].id
    )
    about_department = await filing.file_complaint(parent, "department", "Волокита", settings)
    corruption = await filing.file_complaint(
        parent, "corruption", "Просили взятку за место", settings, anonymous=True
    )
    operator = await make_staff(11, StaffRole.operator, city_id=city.id)
    other_operator = await make_staff(12, StaffRole.operator, city_id=family["other_city"].id)
    admin = await make_staff(
        13, StaffRole.kindergarten_admin, kindergarten_id=family["kindergarten"].id
    )
    superadmin = await make_staff(14, StaffRole.superadmin)
    officer = await make_staff(15, StaffRole.anticorruption)

    async def seen(staff: Any) -> set[int]:
        rows, _pages = await handling.page_of(staff, open_only=False)
        return {row.number for row in rows}

    assert await seen(operator) == {about_kg.number}
    assert await seen(other_operator) == set()
    assert await seen(admin) == set()  # never the complaints about its own kindergarten
    assert await seen(superadmin) == {about_kg.number, about_department.number}
    assert await seen(officer) == {corruption.number}
    with pytest.raises(DomainError) as refused:
        await handling.view_of(operator, corruption.id)
    assert refused.value.reason == Reason.complaint_not_found
    with pytest.raises(DomainError):
        await handling.answer(admin, about_kg.id, "Разберёмся")


async def test_an_anonymous_report_never_shows_the_parent_to_staff_or_in_the_audit(
    family: dict[str, Any], settings: Settings
) -> None:
    complaint = await filing.file_complaint(
        family["parent"],
        "corruption",
        "Заведующая просила деньги",
        settings,
        anonymous=True,
    )
    officer = await make_staff(15, StaffRole.anticorruption)
    view = await handling.view_of(officer, complaint.id)
    assert view.parent is None and view.subject is None
    named = await filing.file_complaint(
        family["parent"],
        "corruption",
        "Заведующая просила деньги",
        settings,
        subject=("application", family["application"].id),
    )
    assert (await handling.view_of(officer, named.id)).parent == "А***В Е***"
    entry = await AuditEntry.filter(
        action="complaint.registered", entity_id=str(complaint.id)
    ).get()
    assert entry.actor == "applicant:anonymous"
    assert "Заведующая" not in str(entry.after)


async def test_staff_take_and_answer_and_the_parent_reads_the_answer_in_their_language(
    family: dict[str, Any], settings: Settings
) -> None:
    complaint = await filing.file_complaint(
        family["parent"],
        "kindergarten",
        "Грубость",
        settings,
        kindergarten_id=family["kindergarten"].id,
    )
    operator = await make_staff(11, StaffRole.operator, city_id=family["city"].id)
    await handling.take(operator, complaint.id)
    view = await handling.answer(operator, complaint.id, "Проведена проверка, <меры> приняты.")
    assert view.status == ComplaintStatus.answered
    with pytest.raises(DomainError) as refused:
        await handling.answer(operator, complaint.id, "Ещё раз")
    assert refused.value.reason == Reason.complaint_answered
    assert await kinds_of(family["parent"].id) == [
        "complaint_registered",
        "complaint_taken",
        "complaint_answered",
    ]
    row = await Notification.filter(kind="complaint_answered").get()
    kk = render(load(row.kind, row.params), "kk", tz=settings.tz).text
    assert "<blockquote>Проведена проверка, &lt;меры&gt; приняты.</blockquote>" in kk
    assert f"№{complaint.number}" in kk


async def test_an_overdue_complaint_goes_to_the_superadmin_once_and_the_parent_is_told(
    family: dict[str, Any], settings: Settings
) -> None:
    corruption = await filing.file_complaint(
        family["parent"], "corruption", "Взятка", settings, anonymous=True
    )
    answered = await filing.file_complaint(family["parent"], "department", "Вопрос", settings)
    superadmin = await make_staff(14, StaffRole.superadmin)
    await handling.answer(superadmin, answered.id, "Ответ")
    assert await handling.escalate_overdue(settings) == 0
    with clock.travel(timedelta(days=30)):
        assert await handling.escalate_overdue(settings) == 1
        assert await handling.escalate_overdue(settings) == 0
        view = await handling.view_of(superadmin, corruption.id)
        assert view.escalated and view.overdue and view.parent is None
        rows = await figures.by_category(superadmin)
    corruption_row = next(r for r in rows if r.category == "corruption")
    assert (corruption_row.filed, corruption_row.open, corruption_row.overdue) == (1, 1, 1)
    assert "complaint_escalated" in await kinds_of(family["parent"].id)


class QueryCount:
    """Counts the statements sent to the database while active (reads and writes alike)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        client = type(connections.get("default"))
        for name in ("execute_query", "execute_query_dict"):
            monkeypatch.setattr(client, name, self._counting(getattr(client, name)))

    def _counting(self, method: Any) -> Any:
        async def counted(client: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await method(client, *args, **kwargs)

        return counted


async def test_a_full_page_of_complaints_opens_as_fast_as_a_page_of_one(
    family: dict[str, Any], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The /complaints page reads what its eight rows show (kindergartens, parents, subjects,
    files) in one query per kind of thing, not per row; and shows each row as before."""
    parent, kindergarten = family["parent"], family["kindergarten"]
    superadmin = await make_staff(21, StaffRole.superadmin)
    first = await filing.file_complaint(
        parent,
        "kindergarten",
        "Грубость",
        settings,
        kindergarten_id=kindergarten.id,
        subject=("application", family["application"].id),
    )
    counted = QueryCount(monkeypatch)
    await handling.page_of(superadmin)
    one = counted.count
    monkeypatch.undo()

    await filing.file_complaint(
        parent, "department", "Ответ", settings, attachment=Attachment("pdf-id", "", "a.pdf", 9)
    )
    for n in range(6):
        await filing.file_complaint(parent, "department", f"Волокита {n}", settings)
    counted = QueryCount(monkeypatch)
    rows, pages = await handling.page_of(superadmin)
    assert (len(rows), pages) == (handling.PAGE, 1)
    assert counted.count == one, (one, counted.count)

    shown = {row.number: row for row in rows}
    assert shown[first.number].kindergarten == kindergarten.name_ru
    assert shown[first.number].subject == str(family["application"].number)
    assert shown[first.number].parent is not None
    assert {row.attachment_file_id for row in rows} == {None, "pdf-id"}
