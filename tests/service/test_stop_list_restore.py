"""The parent's one "Restore from the stop-list" button, whatever put the application there."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.applications.lifecycle import restore
from core.models import Application, ApplicationStatus, Language
from core.platform import clock
from core.platform.errors import DomainError
from tests.fixtures.seats import make_application, make_city, make_kindergarten, make_parent


@pytest.fixture
async def stop_listed(db):
    """A parent's application in the stop-list, and another parent."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    parent = await make_parent()
    stranger = await make_parent()
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        status=ApplicationStatus.stop_listed,
    )
    return app, parent, stranger


async def test_after_the_annual_cleaning_the_parent_restores_and_confirms_the_year(
    stop_listed, settings
):
    app, parent, stranger = stop_listed
    with pytest.raises(DomainError) as refused:
        await restore(app.id, stranger.id, actor="x", settings=settings)
    assert refused.value.reason == "application_not_found"

    restored = await restore(app.id, parent.id, actor="parent", settings=settings)
    assert restored.status == ApplicationStatus.active
    assert restored.submitted_at == app.submitted_at
    assert restored.valid_until > clock.now().date() + timedelta(days=360)


async def test_after_an_expired_referral_the_parent_waits_out_the_term(stop_listed, settings):
    app, parent, _ = stop_listed
    await Application.filter(id=app.id).update(stop_listed_until=clock.now() + timedelta(days=5))
    with pytest.raises(DomainError) as refused:
        await restore(app.id, parent.id, actor="parent", settings=settings)
    assert refused.value.reason == "stop_list_not_over"

    with clock.travel(timedelta(days=6)):
        restored = await restore(app.id, parent.id, actor="parent", settings=settings)
    assert restored.status == ApplicationStatus.active
    assert restored.submitted_at == app.submitted_at
