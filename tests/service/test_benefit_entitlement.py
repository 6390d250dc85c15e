"""A benefit is what the registry (first priority) or staff (extraordinary) say, never what the
bot passes: the forged `benefit_pick:8` of the security review (finding #1) is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from core.applications.submission import SubmissionInput, submit
from core.models import (
    Application,
    ApplicationChoice,
    BenefitStatus,
    DocumentKind,
    GovRequest,
    Language,
    Notification,
    QueueType,
    Stream,
)
from core.people.applicants import create_document
from core.platform import clock
from core.platform.errors import DomainError
from core.registry import family_requests
from core.registry.ports import BenefitRecord
from tests.fixtures.benefits import BenefitsRegistry, consented_family
from tests.fixtures.queue import make_child, make_city, make_kindergarten, make_parent


def today(settings) -> date:
    return clock.now().astimezone(settings.tz).date()


@pytest.fixture
async def family(db: None):
    city = await make_city()
    kg = await make_kindergarten(city, 1, languages="kk,ru")
    parent = await make_parent(telegram_user_id=601)
    child = await make_child(parent, date(2022, 8, 8))
    await child.fetch_related("person")
    await parent.fetch_related("person")
    data = SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=city.id,
        queue_type=QueueType.general,
        choices=[(kg.id, Language.ru)],
        legal_representative=True,
    )
    return {"parent": parent, "child": child, "data": data}


async def refusal(data, settings, gov=None) -> str:
    with pytest.raises(DomainError) as caught:
        await submit(data, settings=settings, actor="t", gov=gov)
    return caught.value.reason


async def test_a_forged_large_family_benefit_is_refused_and_nothing_is_stored(
    family, settings
) -> None:
    # The registry found no benefit for this family (the review's reproduction).
    await consented_family(family["parent"], [family["child"]], {})
    forged = replace(family["data"], benefit_category=8)
    assert await refusal(forged, settings, gov=BenefitsRegistry()) == "benefit_not_confirmed"
    assert await Application.all().count() == 0
    assert await ApplicationChoice.all().count() == 0
    assert await Notification.all().count() == 0


async def test_a_benefit_the_registry_confirmed_puts_the_child_in_first_priority(
    family, settings
) -> None:
    until = today(settings) + timedelta(days=200)
    await consented_family(family["parent"], [family["child"]], {8: until})
    app = await submit(replace(family["data"], benefit_category=8), settings=settings, actor="t")
    assert (app.stream, app.benefit_status, app.benefit_category) == (
        Stream.first_priority,
        BenefitStatus.confirmed,
        8,
    )
    assert app.benefit_valid_until == until


async def test_a_benefit_the_registry_found_for_another_category_does_not_count(
    family, settings
) -> None:
    await consented_family(family["parent"], [family["child"]], {5: today(settings)})
    forged = replace(family["data"], benefit_category=8)
    assert await refusal(forged, settings) == "benefit_not_confirmed"


async def test_an_expired_registry_record_does_not_give_first_priority(family, settings) -> None:
    yesterday = today(settings) - timedelta(days=1)
    await consented_family(family["parent"], [family["child"]], {8: yesterday})
    assert (
        await refusal(replace(family["data"], benefit_category=8), settings)
        == "benefit_not_confirmed"
    )


async def test_a_family_request_about_other_children_does_not_confirm_this_child(
    family, settings
) -> None:
    sibling = await make_child(family["parent"], date(2023, 1, 1))
    await consented_family(family["parent"], [sibling], {8: today(settings) + timedelta(days=9)})
    assert (
        await refusal(replace(family["data"], benefit_category=8), settings)
        == "benefit_not_confirmed"
    )


async def test_a_fresh_registry_look_up_confirms_a_benefit_of_the_parent(family, settings) -> None:
    until = today(settings) + timedelta(days=30)
    registry = BenefitsRegistry({family["parent"].person.iin: [BenefitRecord(5, until)]})
    app = await submit(
        replace(family["data"], benefit_category=5), settings=settings, actor="t", gov=registry
    )
    assert app.stream == Stream.first_priority and app.benefit_valid_until == until
    assert family["parent"].person.iin in registry.asked


async def test_a_registry_that_does_not_answer_leaves_the_benefit_unconfirmed(
    family, settings
) -> None:
    registry = BenefitsRegistry()
    registry.down = True
    data = replace(family["data"], benefit_category=10)
    assert await refusal(data, settings, gov=registry) == "benefit_check_unavailable"
    assert await Application.all().count() == 0


async def test_the_registry_can_never_grant_an_extraordinary_benefit(family, settings) -> None:
    # Even a registry record of category 1 gives no benefit without the parent's document.
    await consented_family(family["parent"], [family["child"]], {1: today(settings)})
    assert (
        await refusal(replace(family["data"], benefit_category=1), settings)
        == "benefit_document_required"
    )
    doc = await create_document(family["parent"], DocumentKind.benefit, "file-1")
    app = await submit(
        replace(family["data"], benefit_category=1, benefit_document_id=doc.id),
        settings=settings,
        actor="t",
    )
    assert (app.stream, app.benefit_status) == (Stream.extraordinary, BenefitStatus.pending)
    assert app.benefit_certificate_issued_on == today(settings)
    assert app.benefit_valid_until == today(settings) + timedelta(
        days=settings.benefit_certificate_valid_days
    )


async def test_a_certificate_uploaded_too_long_ago_is_refused(family, settings) -> None:
    doc = await create_document(family["parent"], DocumentKind.benefit, "file-old")
    days = settings.benefit_certificate_valid_days + 1
    with clock.travel(timedelta(days=days)):
        data = replace(family["data"], benefit_category=2, benefit_document_id=doc.id)
        assert await refusal(data, settings) == "benefit_certificate_expired"


async def test_another_parents_certificate_is_not_accepted(family, settings) -> None:
    stranger = await make_parent()
    doc = await create_document(stranger, DocumentKind.benefit, "file-x")
    data = replace(family["data"], benefit_category=2, benefit_document_id=doc.id)
    assert await refusal(data, settings) == "document_not_found"


async def test_a_registry_child_without_the_legal_representative_flag_cannot_be_applied_for(
    db: None,
) -> None:
    """Domain audit rule 3: a gov payload that omits `legal_representative` fails closed."""
    parent = await make_parent()
    await parent.fetch_related("person")
    request = await GovRequest.create(
        request_id="req-legal", applicant=parent, parent_iin=parent.person.iin
    )
    child = {
        "iin": "220808600011",
        "last_name": "Ахметова",
        "first_name": "Айгерим",
        "middle_name": "",
        "birth_date": "2022-08-08",
        "sex": "F",
    }
    await family_requests.complete(
        {
            "request_id": request.request_id,
            "consent": True,
            "children": [child, {**child, "iin": "220808600022", "legal_representative": True}],
        }
    )
    result = family_requests.family_result(await GovRequest.get(id=request.id))
    assert result is not None
    assert [c.legal_representative for c in result.children] == [False, True]


async def test_a_benefit_newer_than_the_family_request_is_confirmed_by_a_fresh_look_up(
    family, settings
) -> None:
    until = today(settings) + timedelta(days=60)
    await consented_family(family["parent"], [family["child"]], {5: until})
    registry = BenefitsRegistry({family["child"].person.iin: [BenefitRecord(10, until)]})
    app = await submit(
        replace(family["data"], benefit_category=10), settings=settings, actor="t", gov=registry
    )
    assert (app.stream, app.benefit_category) == (Stream.first_priority, 10)
