"""The application's one state machine: allowed transitions, one audit name and one notification
each, refusals that change nothing; one language setting for the bot and the notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.texts.reasons import _texts
from core import audit
from core.applications.lifecycle import (
    TRANSITIONS,
    Event,
    allows,
    restore,
    restore_due,
    transition,
    withdraw,
)
from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    AuditEntry,
    Language,
    Notification,
)
from core.people import applicants
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import INTERNAL, Reason
from tests.fixtures.seats import make_application, make_city, make_kindergarten, make_parent


@pytest.fixture
async def place(db):
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    parent = await make_parent()
    return city, kindergarten, parent


async def test_a_withdrawn_application_cannot_come_back_and_nothing_changes(place) -> None:
    city, kindergarten, parent = place
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)], applicant=parent)
    await withdraw(app.id, parent.id, actor="parent")
    entries = await AuditEntry.all().count()

    with pytest.raises(DomainError) as refused:
        async with audit.transaction() as conn:
            archived = await Application.get(id=app.id).using_db(conn)
            await transition(conn, archived, Event.restored, actor="staff:1")
    assert refused.value.reason == "transition_not_allowed"

    after = await Application.get(id=app.id)
    assert (after.status, str(after.archive_reason)) == (ApplicationStatus.archived, "withdrawn")
    assert not (await ApplicationChoice.get(application_id=app.id)).active
    assert await AuditEntry.all().count() == entries
    assert not await Notification.filter(kind="restored").exists()


def test_the_table_has_no_way_out_of_the_archive_but_the_enrolment() -> None:
    """...and staff undoing an enrolment made by mistake (core.referrals.undo)."""
    assert [event for (status, event) in TRANSITIONS if status == ApplicationStatus.archived] == [
        Event.enrolled,
        Event.enrolment_undone,
    ]
    assert allows(None, Event.submitted) and not allows(ApplicationStatus.active, Event.restored)


async def test_every_restore_is_one_audited_transition_with_one_notification(
    place, settings
) -> None:
    city, kindergarten, parent = place
    timed = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        status=ApplicationStatus.stop_listed,
    )
    await Application.filter(id=timed.id).update(stop_listed_until=clock.now() + timedelta(days=1))
    indefinite = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        status=ApplicationStatus.stop_listed,
    )

    await restore(indefinite.id, parent.id, actor="parent", settings=settings)
    with clock.travel(timedelta(days=2)):
        assert await restore_due(settings) == 1

    actions = await AuditEntry.filter(entity="application").values_list("action", flat=True)
    assert sorted(actions) == ["application.restored", "application.restored"]
    sent = await Notification.filter(kind="restored").order_by("id")
    assert [n.params for n in sent] == [
        {"application_id": indefinite.id, "application_number": indefinite.number},
        {"application_id": timed.id, "application_number": timed.number},
    ]


async def test_lang_changes_the_notification_language_of_every_application(place) -> None:
    city, kindergarten, parent = place
    app = await make_application(city=city, choices=[(kindergarten, Language.ru)], applicant=parent)
    await Application.filter(id=app.id).update(notification_language=Language.ru)

    await applicants.set_language(parent, "kk")

    assert parent.language == Language.kk
    assert (await Application.get(id=app.id)).notification_language == Language.kk


def test_every_reason_code_named_in_core_has_a_text() -> None:
    # invalid_iin is rendered through the iin_* texts (its `detail` names the rule).
    assert sorted(set(Reason) - INTERNAL - {Reason.invalid_iin} - set(_texts())) == []
