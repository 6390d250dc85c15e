"""Submitting, withdrawing and restoring applications; the public look-up by IIN."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

import pytest

from core.applications.lifecycle import restore, withdraw
from core.applications.public import public_lookup
from core.applications.submission import FIRST_APPLICATION_NUMBER, SubmissionInput, submit
from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    AuditEntry,
    BenefitStatus,
    DocumentKind,
    Group,
    GroupKind,
    Language,
    Notification,
    QueueType,
    Stream,
)
from core.people.applicants import create_child_without_iin, create_document
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.pii import mask_name
from core.queue.order import city_position, kindergarten_positions, sync_choices
from core.views.cabinet import application_of, applications_of
from tests.fixtures.benefits import consented_family
from tests.fixtures.queue import make_child, make_city, make_kindergarten, make_parent


def today(settings) -> date:
    return clock.now().astimezone(settings.tz).date()


@pytest.fixture
async def family(db: None):
    city = await make_city()
    kg1 = await make_kindergarten(city, 1, languages="kk,ru")
    kg2 = await make_kindergarten(city, 2, languages="kk")
    for kg, language in ((kg1, Language.ru), (kg2, Language.kk)):  # they take correctional too
        await Group.create(
            kindergarten=kg,
            name="Коррекционная",
            birth_year=2021,
            age_from=3,
            age_to=4,
            language=language,
            kind=GroupKind.correctional,
            capacity=12,
        )
    parent = await make_parent(telegram_user_id=501)
    child = await make_child(parent, date(2021, 6, 1))
    data = SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=city.id,
        queue_type=QueueType.general,
        choices=[(kg1.id, Language.ru), (kg2.id, Language.kk)],
        legal_representative=True,
    )
    return {"city": city, "kg1": kg1, "kg2": kg2, "parent": parent, "child": child, "data": data}


async def test_a_parent_gets_a_number_and_a_place_at_once(family, settings) -> None:
    app = await submit(family["data"], settings=settings, actor="applicant:501")
    assert app.number == FIRST_APPLICATION_NUMBER
    assert app.status == ApplicationStatus.active and app.stream == Stream.general
    assert app.birth_year == 2021
    assert app.valid_until.year == today(settings).year + 1

    position = await city_position(app, settings)
    assert (position.place, position.total) == (1, 1)
    positions = await kindergarten_positions(app, settings)
    assert [(c.kindergarten_id, c.language) for c, _ in positions] == [
        (family["kg1"].id, Language.ru),
        (family["kg2"].id, Language.kk),
    ]

    note = await Notification.get(applicant_id=family["parent"].id)
    assert note.kind == "application_registered" and note.params == {"number": app.number}
    entry = await AuditEntry.get(entity="application", entity_id=str(app.id))
    assert entry.action == "application.registered" and entry.after["number"] == app.number

    # Numbers are sequential: the next child gets the next number.
    sibling = await make_child(family["parent"], date(2022, 3, 3))
    second = await submit(
        replace(family["data"], child_id=sibling.id), settings=settings, actor="applicant:501"
    )
    assert second.number == app.number + 1


async def test_benefits_choose_the_stream(family, settings) -> None:
    doc = await create_document(family["parent"], DocumentKind.benefit, "file-1", mime_type="a/pdf")
    extraordinary = await submit(
        replace(family["data"], benefit_category=1, benefit_document_id=doc.id),
        settings=settings,
        actor="t",
    )
    assert extraordinary.stream == Stream.extraordinary
    assert extraordinary.benefit_status == BenefitStatus.pending

    other = await make_child(family["parent"], date(2022, 1, 1))
    await consented_family(family["parent"], [other], {8: today(settings) + timedelta(days=90)})
    large_family = await submit(
        replace(family["data"], child_id=other.id, benefit_category=8), settings=settings, actor="t"
    )
    assert large_family.stream == Stream.first_priority
    assert large_family.benefit_status == BenefitStatus.confirmed
    choice = await ApplicationChoice.filter(application_id=large_family.id).first()
    assert choice.stream == Stream.first_priority and choice.number == large_family.number


async def refused(data, settings) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await submit(data, settings=settings, actor="t")
    return caught.value


async def test_submission_rules_refuse_with_reason_codes(family, settings) -> None:
    data = family["data"]
    kg1, kg2 = family["kg1"], family["kg2"]

    assert (await refused(replace(data, legal_representative=False), settings)).reason == (
        "not_legal_representative"
    )
    assert (await refused(replace(data, choices=[]), settings)).reason == "no_kindergartens"
    five = [(kg1.id, Language.ru)] * 5
    assert (await refused(replace(data, choices=five), settings)).reason == (
        "too_many_kindergartens"
    )
    twice = [(kg1.id, Language.ru), (kg1.id, Language.kk)]
    assert (await refused(replace(data, choices=twice), settings)).reason == (
        "duplicate_kindergarten"
    )
    error = await refused(replace(data, choices=[(kg2.id, Language.ru)]), settings)
    assert error.reason == "language_not_taught" and error.params["kindergarten_id"] == kg2.id
    assert (await refused(replace(data, queue_type=QueueType.correctional), settings)).reason == (
        "pmpk_required"
    )
    assert (await refused(replace(data, benefit_category=2), settings)).reason == (
        "benefit_document_required"
    )

    no_iin = await create_child_without_iin(
        family["parent"], last_name="Smith", first_name="Anna", birth_date=date(2021, 2, 2)
    )
    assert (await refused(replace(data, child_id=no_iin.id), settings)).reason == (
        "birth_certificate_required"
    )
    certificate = await create_document(family["parent"], DocumentKind.birth_certificate, "f-2")
    accepted = await submit(
        replace(data, child_id=no_iin.id, birth_certificate_document_id=certificate.id),
        settings=settings,
        actor="t",
    )
    assert accepted.status == ApplicationStatus.active

    lonely = await make_parent(verified_phones=1)
    lonely_child = await make_child(lonely, date(2021, 6, 1))
    error = await refused(replace(data, applicant_id=lonely.id, child_id=lonely_child.id), settings)
    assert error.reason == "not_enough_verified_phones"
    assert error.params == {"required": 2, "have": 1}


async def test_age_limit_is_six_full_years_on_the_submission_date(family, settings) -> None:
    day = today(settings)
    six_today = await make_child(family["parent"], day.replace(year=day.year - 6))
    error = await refused(replace(family["data"], child_id=six_today.id), settings)
    assert error.reason == "child_too_old" and error.params["age"] == 6

    almost_six = await make_child(
        family["parent"], day.replace(year=day.year - 6) + timedelta(days=1)
    )
    app = await submit(
        replace(family["data"], child_id=almost_six.id), settings=settings, actor="t"
    )
    assert app.status == ApplicationStatus.active


async def test_one_application_per_child_and_queue_type(family, settings) -> None:
    first = await submit(family["data"], settings=settings, actor="t")
    error = await refused(family["data"], settings)
    assert error.reason == "duplicate_application" and error.params == {"number": first.number}

    pmpk = await create_document(family["parent"], DocumentKind.pmpk, "f-3")
    correctional = await submit(
        replace(family["data"], queue_type=QueueType.correctional, pmpk_document_id=pmpk.id),
        settings=settings,
        actor="t",
    )
    assert correctional.number == first.number + 1

    # After a withdrawal the child may apply again, under a new number.
    await withdraw(first.id, family["parent"].id, actor="t")
    again = await submit(family["data"], settings=settings, actor="t")
    assert again.number == correctional.number + 1


async def test_twenty_parallel_submissions_for_one_child_make_one_application(
    family, settings
) -> None:
    results = await asyncio.gather(
        *(submit(family["data"], settings=settings, actor="t") for _ in range(20)),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, Application)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(created) == 1
    assert len(refusals) == 19
    assert {e.reason for e in refusals} == {"duplicate_application"}
    assert {e.params["number"] for e in refusals} == {created[0].number}
    assert await Application.filter(child_id=family["child"].id).count() == 1
    assert await Notification.filter(kind="application_registered").count() == 1


async def test_numbers_are_unique_under_parallel_submissions(family, settings) -> None:
    children = [await make_child(family["parent"], date(2021, 1, 1 + n)) for n in range(12)]
    apps = await asyncio.gather(
        *(
            submit(replace(family["data"], child_id=c.id), settings=settings, actor="t")
            for c in children
        )
    )
    numbers = sorted(a.number for a in apps)
    assert numbers == list(range(FIRST_APPLICATION_NUMBER, FIRST_APPLICATION_NUMBER + 12))


async def test_withdrawn_application_leaves_the_queue(family, settings) -> None:
    mine = await submit(family["data"], settings=settings, actor="t")
    other_parent = await make_parent(telegram_user_id=777, last_name="Омаров")
    other_child = await make_child(other_parent)
    theirs = await submit(
        replace(family["data"], applicant_id=other_parent.id, child_id=other_child.id),
        settings=settings,
        actor="t",
    )
    assert (await city_position(theirs, settings)).place == 2

    with pytest.raises(DomainError) as caught:
        await withdraw(mine.id, other_parent.id, actor="t")
    assert caught.value.reason == "application_not_found"

    withdrawn = await withdraw(mine.id, family["parent"].id, actor="t")
    assert withdrawn.status == ApplicationStatus.archived
    assert (await city_position(theirs, settings)).place == 1
    [(_, kg_position), _] = await kindergarten_positions(theirs, settings)
    assert kg_position.place == 1
    with pytest.raises(DomainError) as caught:
        await withdraw(mine.id, family["parent"].id, actor="t")
    assert caught.value.reason == "application_archived"
    parent_id = family["parent"].id
    assert [a.number for a in await applications_of(parent_id, settings)] == [mine.number]
    assert (await application_of(parent_id, mine.id, settings)).child_first_name
    with pytest.raises(DomainError):
        await application_of(other_parent.id, mine.id, settings)


async def test_restore_from_stop_list_returns_at_the_original_time(family, settings) -> None:
    first = await submit(family["data"], settings=settings, actor="t")
    other_child = await make_child(family["parent"], date(2021, 9, 9))
    second = await submit(
        replace(family["data"], child_id=other_child.id), settings=settings, actor="t"
    )

    first.status = ApplicationStatus.stop_listed
    first.stop_listed_until = clock.now() + timedelta(days=10)
    await first.save()
    await sync_choices(first)
    assert (await city_position(second, settings)).place == 1

    with pytest.raises(DomainError) as caught:
        await restore(first.id, family["parent"].id, actor="t", settings=settings)
    assert caught.value.reason == "stop_list_not_over"

    with clock.travel(timedelta(days=11)):
        restored = await restore(first.id, family["parent"].id, actor="t", settings=settings)
    assert restored.status == ApplicationStatus.active
    assert restored.submitted_at == first.submitted_at
    assert (await city_position(restored, settings)).place == 1
    assert (await city_position(second, settings)).place == 2
    assert await Notification.filter(kind="restored").count() == 1

    with pytest.raises(DomainError) as caught:
        await restore(first.id, family["parent"].id, actor="t", settings=settings)
    assert caught.value.reason == "not_stop_listed"


def test_names_are_masked_as_on_the_portal() -> None:
    assert mask_name("Аскаров", "Руслан", "Жанович") == "А***В Р*** Ж."
    assert mask_name("ахметова", "айгерим", "") == "А***А А***"


async def test_public_lookup_by_child_or_parent_iin_shows_no_personal_data(
    family, settings
) -> None:
    doc = await create_document(family["parent"], DocumentKind.benefit, "file-9")
    app = await submit(
        replace(family["data"], benefit_category=3, benefit_document_id=doc.id),
        settings=settings,
        actor="t",
    )
    await family["child"].fetch_related("person")
    await family["parent"].fetch_related("person")
    by_child = await public_lookup(family["child"].person.iin, settings)
    by_parent = await public_lookup(family["parent"].person.iin, settings)
    assert by_child == by_parent
    [found] = by_child
    assert found.number == app.number
    assert found.benefit_class == "extraordinary"
    assert found.applicant_name == "А***В Е*** С."
    assert found.child_name == "А***А А*** Е."
    assert found.position.place == 1 and found.status == "active"
    text = repr(found)
    assert family["child"].person.iin not in text and "Ахмет" not in text

    assert await public_lookup("031231500126", settings) == []
    with pytest.raises(DomainError) as caught:
        await public_lookup("12345", settings)
    assert caught.value.reason == "invalid_iin" and caught.value.params == {"detail": "length"}
