"""Parents, phones, children from the gov registry, and documents."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from core.models import Applicant, Child, DocumentKind, Language, Person
from core.people import applicants
from core.platform.errors import DomainError
from core.registry.ports import ChildRecord, PersonRecord
from core.views import cabinet


def record(iin: str, first: str = "Алихан", born: date = date(2022, 1, 1)) -> PersonRecord:
    return PersonRecord(iin, "Сейткали", first, "Ерланович", born, "male")


async def test_first_contact_creates_the_applicant_once(db: None) -> None:
    created = await asyncio.gather(
        *(applicants.get_or_create_applicant(900, 900, "kk") for _ in range(5))
    )
    assert len({a.id for a in created}) == 1
    assert created[0].language == Language.kk
    # Telegram's language does not override the parent's later choice.
    await applicants.set_language(created[0], Language.ru)
    again = await applicants.get_or_create_applicant(900, 901, "kk")
    assert again.language == Language.ru and again.chat_id == 901
    assert (await applicants.get_or_create_applicant(901, 901, "en")).language == Language.ru


def test_phone_numbers_are_normalised_to_e164() -> None:
    assert applicants.normalize_phone("8 (701) 123-45-67") == "+77011234567"
    assert applicants.normalize_phone("+7 701 123 45 67") == "+77011234567"
    assert applicants.normalize_phone("7011234567") == "+77011234567"
    with pytest.raises(DomainError) as caught:
        applicants.normalize_phone("12345")
    assert caught.value.reason == "invalid_phone"


async def test_only_verified_phones_count(db: None) -> None:
    applicant = await applicants.get_or_create_applicant(1, 1)
    await applicants.add_phone(applicant, "87011234567")
    assert await applicants.verified_phone_count(applicant) == 0
    await applicants.verify_phone(applicant, "+77011234567")
    await applicants.verify_phone(applicant, "+77011234567")
    await applicants.verify_phone(applicant, "+77071234567")
    assert await applicants.verified_phone_count(applicant) == 2
    assert [p.number for p in await cabinet.phones_of(applicant.id)] == [
        "+77011234567",
        "+77071234567",
    ]


async def test_children_from_the_registry_are_upserted_by_iin(db: None) -> None:
    parent = await applicants.get_or_create_applicant(2, 2)
    await applicants.link_applicant_person(
        parent, PersonRecord("900412412345", "Сейткали", "Айгерим", "", date(1990, 4, 12), "f")
    )
    records = [
        ChildRecord(record("220101500017"), legal_representative=True),
        ChildRecord(record("220101500017", first="Алихан-Renamed"), legal_representative=True),
    ]
    children = await applicants.store_children(records, parent)
    assert children[0].id == children[1].id
    assert await Person.filter(iin="220101500017").count() == 1
    assert (await Person.get(iin="220101500017")).first_name == "Алихан-Renamed"
    assert [c.id for c in await applicants.children_of(parent)] == [children[0].id]

    # Not a legal representative: stored, but not linked to this applicant.
    stranger = await applicants.store_child(
        ChildRecord(record("220101500017"), legal_representative=False),
        await applicants.get_or_create_applicant(3, 3),
    )
    assert (await Child.get(id=stranger.id)).representative_id == parent.id
    assert (await Applicant.get(id=parent.id)).person_id is not None


async def test_documents_keep_the_telegram_file(db: None) -> None:
    parent = await applicants.get_or_create_applicant(4, 4)
    doc = await applicants.create_document(
        parent, DocumentKind.pmpk, "AgADBAAD", mime_type="application/pdf", file_name="pmpk.pdf"
    )
    assert (doc.kind, doc.telegram_file_id, doc.file_name) == (
        DocumentKind.pmpk,
        "AgADBAAD",
        "pmpk.pdf",
    )
    child = await applicants.create_child_without_iin(
        parent,
        last_name="Smith",
        first_name="Anna",
        birth_date=date(2021, 5, 5),
        birth_certificate=doc,
    )
    assert child.birth_certificate_id == doc.id
