"""A child without an IIN is one child whoever types them in (domain audit rule 2): mother and
father cannot each queue the same child in the same queue. The child is recognised by the birth
certificate's data: birth date, last and first name (case, ё/е, spaces and hyphens aside), and the
patronymic when both typed one."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from core.applications.submission import SubmissionInput, submit
from core.models import Applicant, Application, DocumentKind, Language, Notification, QueueType
from core.people.applicants import (
    create_child_without_iin,
    create_document,
    queued_by_other_parents,
)
from core.platform.errors import DomainError
from tests.fixtures.queue import make_city, make_kindergarten, make_parent

BORN = date(2022, 3, 5)


@pytest.fixture
async def two_parents(db: None):
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1, languages="kk,ru")
    mother = await make_parent(telegram_user_id=601, last_name="Смит")
    father = await make_parent(telegram_user_id=602, last_name="Смит")
    return city, kindergarten, mother, father


async def _statement(parent: Applicant, city, kindergarten, **names: str) -> SubmissionInput:
    certificate = await create_document(parent, DocumentKind.birth_certificate, f"f-{parent.id}")
    child = await create_child_without_iin(
        parent,
        last_name=names.get("last_name", "Смит"),
        first_name=names.get("first_name", "Алёна"),
        middle_name=names.get("middle_name", ""),
        birth_date=names.get("born", BORN),  # type: ignore[arg-type]
        birth_certificate=certificate,
    )
    return SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=city.id,
        queue_type=QueueType.general,
        choices=[(kindergarten.id, Language.ru)],
        legal_representative=True,
        birth_certificate_document_id=certificate.id,
    )


async def test_the_father_is_told_the_mother_already_queued_the_child_without_an_iin(
    two_parents, settings
):
    city, kindergarten, mother, father = two_parents
    by_mother = await _statement(mother, city, kindergarten, middle_name="Джоновна")
    mine = await submit(by_mother, settings=settings, actor="mother")
    by_father = await _statement(
        father, city, kindergarten, last_name="СМИТ ", first_name="алена", middle_name=""
    )

    # Told when the child is typed in, and refused at submission, without the other's number.
    assert await queued_by_other_parents(
        father.id, last_name="Смит", first_name="Алена", middle_name="", birth_date=BORN
    ) == ["general"]
    assert (
        await queued_by_other_parents(
            mother.id, last_name="Смит", first_name="Алёна", middle_name="", birth_date=BORN
        )
        == []
    )
    with pytest.raises(DomainError) as refused:
        await submit(by_father, settings=settings, actor="father")
    assert refused.value.reason == "child_queued_by_other_parent"
    assert str(mine.number) not in str(refused.value.params)

    assert await Application.all().count() == 1
    assert not await Notification.filter(applicant_id=father.id).exists()


async def test_a_different_child_without_an_iin_is_not_taken_for_the_same_one(
    two_parents, settings
):
    city, kindergarten, mother, father = two_parents
    await submit(await _statement(mother, city, kindergarten), settings=settings, actor="m")
    twin = await _statement(father, city, kindergarten, first_name="Анна")
    other_day = await _statement(father, city, kindergarten, born=date(2022, 3, 6))
    other_patronymic = await _statement(
        father, city, kindergarten, first_name="Алёна", middle_name="Петровна"
    )
    await submit(twin, settings=settings, actor="f")
    await submit(other_day, settings=settings, actor="f")
    # Mother typed no patronymic: a patronymic alone does not tell two children apart.
    with pytest.raises(DomainError):
        await submit(other_patronymic, settings=settings, actor="f")
    assert await Application.all().count() == 3


async def test_mother_and_father_submitting_at_once_make_one_application(two_parents, settings):
    city, kindergarten, mother, father = two_parents
    statements = [
        await _statement(mother, city, kindergarten),
        await _statement(father, city, kindergarten),
    ] * 5
    results = await asyncio.gather(
        *(submit(s, settings=settings, actor="t") for s in statements), return_exceptions=True
    )
    assert len([r for r in results if isinstance(r, Application)]) == 1
    assert all(isinstance(r, DomainError) for r in results if not isinstance(r, Application))
    assert await Application.all().count() == 1
