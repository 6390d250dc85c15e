"""The autumn extension campaign, annual cleaning and restoring from the stop-list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.applications.extension import (
    QUESTIONS,
    STEPS,
    annual_cleaning,
    extend_applications,
    extendable,
    remind_extension,
    save_answers,
)
from core.applications.lifecycle import remove_aged_out, restore
from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    ArchiveReason,
    ExtensionAnswers,
    Language,
    Notification,
)
from core.platform import clock
from core.platform.errors import DomainError
from tests.fixtures.seats import make_application, make_city, make_kindergarten, make_parent


@pytest.fixture
async def family(db):
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    parent = await make_parent()
    return city, kindergarten, parent


def _answers(kindergarten_id: int) -> dict:
    return {
        "kindergartens": [kindergarten_id],
        "ownership": "state",
        "ownership_why": ["cost"],
        "language": "kk",
        "max_payment": "25000",
        "activities": ["chess", "drawing"],
        "activities_other": "Домбыра",
        "digital": ["cashless_payments"],
        "digital_other": "",
    }


def _travel_to(day: date):
    """Move the service clock to noon (Almaty) of `day`."""
    target = datetime(day.year, day.month, day.day, 7, 0, tzinfo=clock.now().tzinfo)
    return clock.travel(target - clock.now())


def test_the_questionnaire_has_the_six_questions_of_the_portal() -> None:
    assert STEPS == (
        "kindergartens",
        "ownership",
        "language",
        "max_payment",
        "activities",
        "digital",
    )
    by_id = {q.id: q for q in QUESTIONS}
    assert by_id["ownership"].options == ("any", "state", "private")
    assert by_id["ownership_why"].options == ("quality", "cost")
    assert by_id["max_payment"].options[0] == "10000"
    assert by_id["max_payment"].options[-1] == "110000"
    assert len(by_id["activities"].options) == 12 and by_id["activities"].other
    assert len(by_id["digital"].options) == 12 and by_id["digital"].other


async def test_answers_are_checked_and_stored_once_per_season(family, settings):
    _, kindergarten, parent = family
    year = clock.now().year
    with _travel_to(date(year, 9, 10)):
        stored = await save_answers(
            parent.id, _answers(kindergarten.id), season=year, settings=settings
        )
        assert stored.answers["max_payment"] == 25000
        assert stored.answers["activities"] == ["chess", "drawing"]

        changed = _answers(kindergarten.id) | {"language": "ru"}
        await save_answers(parent.id, changed, season=year, settings=settings)
        assert await ExtensionAnswers.filter(applicant_id=parent.id).count() == 1
        assert (await ExtensionAnswers.get(applicant_id=parent.id)).answers["language"] == "ru"

        for broken, question in (
            ({"kindergartens": []}, "kindergartens"),
            ({"kindergartens": [kindergarten.id] * 2}, "kindergartens"),
            ({"max_payment": "12345"}, "max_payment"),
            ({"ownership": "private", "ownership_why": ["price"]}, "ownership_why"),
            ({"language": "en"}, "language"),
            ({"activities": ["poker"]}, "activities"),
        ):
            with pytest.raises(DomainError) as refused:
                await save_answers(
                    parent.id,
                    _answers(kindergarten.id) | broken,
                    season=year,
                    settings=settings,
                )
            assert refused.value.params["question"] == question


async def test_extending_during_the_campaign_adds_a_year(family, settings):
    city, kindergarten, parent = family
    choice = [(kindergarten, Language.ru)]
    year = clock.now().year
    app = await make_application(
        city=city, choices=choice, applicant=parent, valid_until=date(year, 11, 15)
    )

    with _travel_to(date(year, 9, 10)):
        with pytest.raises(DomainError) as refused:
            await extend_applications(parent.id, [app.id], actor="parent", settings=settings)
        assert refused.value.reason == "questionnaire_required"
        await save_answers(parent.id, _answers(kindergarten.id), season=year, settings=settings)
        [extended] = await extend_applications(
            parent.id, [app.id], actor="parent", settings=settings
        )
        assert extended.valid_until == date(year + 1, 11, 15)
        # Pressing again changes nothing.
        assert await extend_applications(parent.id, [app.id], actor="p", settings=settings) == []
        [card] = await extendable(parent.id, settings)
        assert card.extended

    with _travel_to(date(year, 10, 2)):
        with pytest.raises(DomainError) as refused:
            await extend_applications(parent.id, [app.id], actor="parent", settings=settings)
        assert refused.value.reason == "extension_closed"
        assert await annual_cleaning(settings, date(year, 10, 2)) == 0
    assert (await Application.get(id=app.id)).status == ApplicationStatus.active


async def test_someone_elses_application_cannot_be_extended(family, settings):
    city, kindergarten, parent = family
    year = clock.now().year
    other = await make_application(city=city, choices=[(kindergarten, Language.ru)])
    with _travel_to(date(year, 9, 10)):
        await save_answers(parent.id, _answers(kindergarten.id), season=year, settings=settings)
        with pytest.raises(DomainError) as refused:
            await extend_applications(parent.id, [other.id], actor="parent", settings=settings)
    assert refused.value.reason == "application_not_found"


async def test_annual_cleaning_stop_lists_the_not_extended_and_the_parent_restores(
    family, settings
):
    city, kindergarten, parent = family
    year = clock.now().year
    choice = [(kindergarten, Language.ru)]
    stale = await make_application(
        city=city,
        choices=choice,
        applicant=parent,
        submitted_at=datetime(year - 2, 11, 15, 5, 0, tzinfo=UTC),  # extended last year
        valid_until=date(year, 11, 15),
    )
    fresh = await make_application(city=city, choices=choice, valid_until=date(year + 2, 1, 1))

    with _travel_to(date(year, 9, 15)):
        assert await remind_extension(settings, date(year, 9, 15)) == 1
        assert await remind_extension(settings, date(year, 9, 15)) == 0
    assert await annual_cleaning(settings, date(year, 10, 1)) == 0  # deadline day: not yet
    assert await annual_cleaning(settings, date(year, 10, 2)) == 1
    assert await annual_cleaning(settings, date(year, 10, 2)) == 0

    stale = await Application.get(id=stale.id)
    assert (stale.status, stale.stop_listed_until) == (ApplicationStatus.stop_listed, None)
    assert not (await ApplicationChoice.get(application_id=stale.id)).active
    assert (await Application.get(id=fresh.id)).status == ApplicationStatus.active
    sent = await Notification.get(kind="stop_listed")
    assert (sent.applicant_id, sent.params["reason"]) == (parent.id, "not_extended")

    with pytest.raises(DomainError) as refused:
        await restore(stale.id, fresh.applicant_id, actor="x", settings=settings)
    assert refused.value.reason == "application_not_found"
    restored = await restore(stale.id, parent.id, actor="parent", settings=settings)
    assert restored.status == ApplicationStatus.active
    assert restored.submitted_at == stale.submitted_at
    assert restored.valid_until > clock.now().date() + timedelta(days=360)
    assert (await ApplicationChoice.get(application_id=stale.id)).active
    assert await Notification.filter(kind="restored", applicant_id=parent.id).exists()
    with pytest.raises(DomainError) as refused:
        await restore(stale.id, parent.id, actor="parent", settings=settings)
    assert refused.value.reason == "not_stop_listed"


async def test_a_timed_stop_list_cannot_be_cut_short(family, settings):
    city, kindergarten, parent = family
    app = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        applicant=parent,
        status=ApplicationStatus.stop_listed,
    )
    await Application.filter(id=app.id).update(stop_listed_until=clock.now() + timedelta(days=5))
    with pytest.raises(DomainError) as refused:
        await restore(app.id, parent.id, actor="parent", settings=settings)
    assert refused.value.reason == "stop_list_not_over"  # one restore, one code (same text)


async def test_children_of_six_full_years_leave_the_queue(family, settings):
    city, kindergarten, _ = family
    today = clock.now().date()
    six = await make_application(
        city=city,
        choices=[(kindergarten, Language.ru)],
        born=date(today.year - 6, 1, 1),
    )
    five = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], born=date(today.year - 5, 12, 31)
    )

    assert await remove_aged_out(settings, today) == 1

    six = await Application.get(id=six.id)
    assert (six.status, six.archive_reason) == (ApplicationStatus.archived, ArchiveReason.aged_out)
    assert (await Application.get(id=five.id)).status == ApplicationStatus.active
