"""Adding or changing the benefit later from the cabinet ("её можно указать и позже в Личном
кабинете"): the same checks as at submission, the new stream at the original time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from redis.asyncio import Redis

from core.applications.benefits import change_benefit
from core.applications.lifecycle import withdraw
from core.models import (
    Application,
    ApplicationChoice,
    AuditEntry,
    BenefitStatus,
    DocumentKind,
    Stream,
)
from core.people.applicants import create_document
from core.platform import clock
from core.platform.errors import DomainError
from core.queue.order import city_position
from core.referrals.benefits import confirm_benefit
from tests.fixtures.benefits import consented_family, three_in_one_queue


def local_today(settings) -> date:
    return clock.now().astimezone(settings.tz).date()


@pytest.fixture
async def queue(db: None, settings):
    """Three general applications of one cohort; the parent of the last one changes its benefit."""
    _kindergarten, apps = await three_in_one_queue(settings)
    last = apps[-1]
    parent = await last.applicant
    child = await last.child
    return {"apps": apps, "app": last, "parent": parent, "child": child}


async def refusal(queue, settings, category, document_id=None, applicant_id=None) -> str:
    with pytest.raises(DomainError) as caught:
        await change_benefit(
            queue["app"].id,
            applicant_id or queue["parent"].id,
            category,
            document_id,
            settings=settings,
            actor="t",
        )
    return caught.value.reason


async def test_a_registry_confirmed_benefit_added_later_moves_the_child_up_at_its_time(
    queue, settings, redis: Redis
) -> None:
    app = queue["app"]
    assert (await city_position(app, settings)).place == 3
    await consented_family(queue["parent"], [queue["child"]], {8: local_today(settings)})
    changed = await change_benefit(
        app.id, queue["parent"].id, 8, settings=settings, actor="applicant:t", index=redis
    )
    assert (changed.stream, changed.benefit_status, changed.benefit_category) == (
        Stream.first_priority,
        BenefitStatus.confirmed,
        8,
    )
    assert changed.submitted_at == app.submitted_at
    choice = await ApplicationChoice.get(application_id=app.id)
    assert choice.stream == Stream.first_priority
    assert (await city_position(changed, settings)).place == 1
    entry = await AuditEntry.get(action="benefit.changed", entity_id=str(app.id))
    assert entry.before["benefit_category"] is None and entry.after["benefit_category"] == 8


async def test_a_forged_benefit_added_later_is_refused_and_nothing_changes(queue, settings) -> None:
    await consented_family(queue["parent"], [queue["child"]], {})
    assert await refusal(queue, settings, 8) == "benefit_not_confirmed"
    app = await Application.get(id=queue["app"].id)
    assert (app.stream, app.benefit_category) == (Stream.general, None)
    assert not await AuditEntry.filter(action="benefit.changed").exists()


async def test_an_extraordinary_benefit_added_later_waits_for_staff_with_its_certificate(
    queue, settings
) -> None:
    assert await refusal(queue, settings, 3) == "benefit_document_required"
    doc = await create_document(queue["parent"], DocumentKind.benefit, "cert-3")
    app = await change_benefit(
        queue["app"].id, queue["parent"].id, 3, doc.id, settings=settings, actor="t"
    )
    assert (app.stream, app.benefit_status, app.benefit_document_id) == (
        Stream.extraordinary,
        BenefitStatus.pending,
        doc.id,
    )
    assert app.benefit_valid_until == local_today(settings) + timedelta(
        days=settings.benefit_certificate_valid_days
    )
    # The same benefit again is no change; a new certificate for it is (a fresh term).
    assert await refusal(queue, settings, 3, doc.id) == "benefit_unchanged"
    newer = await create_document(queue["parent"], DocumentKind.benefit, "cert-3b")
    again = await change_benefit(
        queue["app"].id, queue["parent"].id, 3, newer.id, settings=settings, actor="t"
    )
    assert again.benefit_document_id == newer.id


async def test_a_parent_whose_benefit_was_rejected_can_claim_one_again(queue, settings) -> None:
    doc = await create_document(queue["parent"], DocumentKind.benefit, "cert-1")
    app = queue["app"]
    await change_benefit(app.id, queue["parent"].id, 1, doc.id, settings=settings, actor="t")
    await confirm_benefit(app.id, False, "unreadable", actor="staff:1", settings=settings)
    await consented_family(queue["parent"], [queue["child"]], {10: local_today(settings)})
    again = await change_benefit(app.id, queue["parent"].id, 10, settings=settings, actor="t")
    assert (again.stream, again.benefit_status) == (Stream.first_priority, BenefitStatus.confirmed)


async def test_a_benefit_can_be_removed_and_the_child_returns_to_the_general_stream(
    queue, settings
) -> None:
    await consented_family(queue["parent"], [queue["child"]], {8: local_today(settings)})
    app = queue["app"]
    await change_benefit(app.id, queue["parent"].id, 8, settings=settings, actor="t")
    removed = await change_benefit(app.id, queue["parent"].id, None, settings=settings, actor="t")
    assert (removed.stream, removed.benefit_status, removed.benefit_category) == (
        Stream.general,
        BenefitStatus.none,
        None,
    )
    assert await refusal(queue, settings, None) == "benefit_unchanged"


async def test_no_benefit_change_for_an_archived_or_someone_elses_application(
    queue, settings
) -> None:
    other = queue["apps"][0]
    assert await refusal(queue, settings, None, applicant_id=other.applicant_id) == (
        "application_not_found"
    )
    await withdraw(queue["app"].id, queue["parent"].id, actor="t")
    await consented_family(queue["parent"], [queue["child"]], {8: local_today(settings)})
    assert await refusal(queue, settings, 8) == "application_archived"
