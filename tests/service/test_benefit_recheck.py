"""Rule 14b: a first-priority benefit holds only while the state registry confirms it. When the
registry record's validity ends, the benefit is looked up again: renewed, it holds on; ended,
the child goes on in the general order at the original time and the parent is told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.notifications.render import render
from core.applications.benefits import change_benefit, recheck_ended_benefits
from core.models import (
    Application,
    AuditEntry,
    BenefitStatus,
    Notification,
    Stream,
)
from core.notifications.kinds import load
from core.platform import clock
from core.queue.order import city_position
from core.referrals.take import take_seat
from core.registry.ports import BenefitRecord
from core.seats.releases import release_seats
from tests.fixtures.benefits import BenefitsRegistry, consented_family, three_in_one_queue
from tests.fixtures.seats import make_group


@pytest.fixture
async def holder(db: None, settings):
    """Three general applications of one cohort; the last one's child has benefit 8 (large
    family) confirmed by the family request until `until`, so it is first in line."""
    kg, apps = await three_in_one_queue(settings)
    app = apps[-1]
    parent, child = await app.applicant, await app.child
    await child.fetch_related("person")
    today = clock.now().astimezone(settings.tz).date()
    until = today + timedelta(days=10)
    await consented_family(parent, [child], {8: until})
    await change_benefit(app.id, parent.id, 8, settings=settings, actor="t")
    assert (await city_position(await Application.get(id=app.id), settings)).place == 1
    return {"app": app, "child": child, "until": until, "kg": kg}


async def test_a_benefit_the_registry_no_longer_confirms_ends_and_the_parent_is_told(
    holder, settings
) -> None:
    day_after = holder["until"] + timedelta(days=1)
    ended = await recheck_ended_benefits(settings, day_after, BenefitsRegistry())

    app = await Application.get(id=holder["app"].id)
    assert ended == 1
    assert (app.stream, app.benefit_status, app.benefit_category) == (
        Stream.general,
        BenefitStatus.none,
        None,
    )
    assert app.submitted_at == holder["app"].submitted_at  # its original time
    assert (await city_position(app, settings)).place == 3
    row = await Notification.get(applicant_id=app.applicant_id, kind="benefit_ended")
    for language, words in (("ru", "в общем порядке"), ("kk", "жалпы")):
        text = render(load(row.kind, row.params), language, tz=settings.tz).text
        assert f"№{app.number}" in text and words in text, text
    entry = (
        await AuditEntry.filter(action="benefit.changed", entity_id=str(app.id))
        .order_by("-id")
        .first()
    )
    assert entry.actor == "system" and entry.after["reason"] == "registry_record_ended"
    # The daily job runs again: nothing more happens, the parent is told once.
    assert await recheck_ended_benefits(settings, day_after, BenefitsRegistry()) == 0
    assert await Notification.filter(kind="benefit_ended").count() == 1


async def test_a_benefit_the_registry_renewed_holds_on_without_a_message(holder, settings) -> None:
    renewed = holder["until"] + timedelta(days=365)
    registry = BenefitsRegistry({holder["child"].person.iin: [BenefitRecord(8, renewed)]})

    ended = await recheck_ended_benefits(settings, holder["until"] + timedelta(days=1), registry)

    app = await Application.get(id=holder["app"].id)
    assert ended == 0
    assert (app.stream, app.benefit_category, app.benefit_valid_until) == (
        Stream.first_priority,
        8,
        renewed,
    )
    assert (await city_position(app, settings)).place == 1
    assert not await Notification.filter(kind="benefit_ended").exists()


async def test_a_benefit_is_not_checked_before_its_record_ends(holder, settings) -> None:
    registry = BenefitsRegistry()
    assert await recheck_ended_benefits(settings, holder["until"], registry) == 0
    assert registry.asked == []
    assert (await Application.get(id=holder["app"].id)).stream == Stream.first_priority


async def test_a_registry_that_does_not_answer_takes_nothing_away(holder, settings) -> None:
    registry = BenefitsRegistry()
    registry.down = True
    day_after = holder["until"] + timedelta(days=1)

    assert await recheck_ended_benefits(settings, day_after, registry) == 0
    assert (await Application.get(id=holder["app"].id)).stream == Stream.first_priority
    # The next day it answers: the benefit ended.
    assert await recheck_ended_benefits(settings, day_after, BenefitsRegistry()) == 1


async def test_a_live_referral_issued_for_the_benefit_keeps_it(holder, settings) -> None:
    group = await make_group(holder["kg"], birth_year=2022)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    await take_seat(holder["app"].id, group.id, actor="parent", settings=settings)

    ended = await recheck_ended_benefits(
        settings, holder["until"] + timedelta(days=1), BenefitsRegistry()
    )

    assert ended == 0
    assert (await Application.get(id=holder["app"].id)).benefit_category == 8
